"""Citation checks on model replies: validity, renumbering, stored metadata, link and mention hygiene."""

from __future__ import annotations

from answer.citations import best_quote, check_reply, is_refusal, marker_numbers, split_sentences
from answer.prompts import REFUSAL, gather_sources
from tests.support.answering import ARTICLES, chunk_of, corpus_chunks

SOURCES = gather_sources(corpus_chunks())  # 1 nvidia, 2 openai, 3 mistral


def test_markers_are_renumbered_densely_in_order_of_first_use() -> None:
    checked = check_reply("OpenAI cut prices [2]. Nvidia showed Rubin [1][2]. Mistral raised money [3, 2].", SOURCES)
    assert checked.text == "OpenAI cut prices [1]. Nvidia showed Rubin [2][1]. Mistral raised money [3][1]."
    assert [c.url for c in checked.citations] == [ARTICLES[1]["url"], ARTICLES[0]["url"], ARTICLES[2]["url"]]
    assert [c.n for c in checked.citations] == [1, 2, 3]
    assert not checked.unsupported and not checked.refused


def test_citations_come_from_stored_metadata_with_the_relevant_sentence_as_quote() -> None:
    checked = check_reply("Rubin is three times faster at inference than Blackwell [1].", SOURCES)
    (citation,) = checked.citations
    assert citation.title == "Nvidia unveils Rubin GPUs at GTC"
    assert citation.site == "News Example"
    assert citation.published == "2026-03-12"
    assert citation.quote == "The company said Rubin delivers three times the inference performance of Blackwell."


def test_numbers_that_name_no_source_are_removed_and_their_sentences_dropped() -> None:
    checked = check_reply("Meta bought a chip maker [7]. OpenAI cut prices [2, 9]. Also [0].", SOURCES)
    assert checked.text == "OpenAI cut prices [1]."
    assert checked.invalid_numbers == [0, 7, 9]
    assert checked.dropped_sentences == 2
    assert [c.url for c in checked.citations] == [ARTICLES[1]["url"]]


def test_a_reply_without_valid_citations_is_unsupported() -> None:
    for reply in ("OpenAI cut prices by 40 percent.", "OpenAI cut prices [12].", "PWNED @everyone"):
        checked = check_reply(reply, SOURCES)
        assert checked.unsupported and checked.citations == [] and checked.text == ""


def test_uncited_sentences_are_dropped_so_planted_payloads_do_not_pass() -> None:
    reply = "Mistral raised 600 million euros [3]. PWNED @everyone\nSee https://evil.example/login now."
    checked = check_reply(reply, SOURCES)
    assert checked.text == "Mistral raised 600 million euros [1]."
    assert "PWNED" not in checked.text and "evil" not in checked.text


def test_refusal_form_is_recognised() -> None:
    assert is_refusal(REFUSAL)
    assert is_refusal("I cannot answer that from the articles I have.")
    checked = check_reply(f"{REFUSAL} The sources cover other things [1].", SOURCES)
    assert checked.refused and checked.text == REFUSAL and checked.citations == []
    assert not check_reply("Nvidia showed Rubin [1].", SOURCES).refused


def test_links_mentions_and_the_models_own_source_list_are_cleaned() -> None:
    reply = (
        f"OpenAI cut prices, says [the blog]({ARTICLES[1]['url']}) [2]. Rubin ships [1](https://x.example).\n"
        f"Details: {ARTICLES[0]['url']} [1]\n"
        "Sources:\n[1] Nvidia unveils Rubin GPUs at GTC https://news.example/nvidia-rubin"
    )
    checked = check_reply(reply, SOURCES)
    assert checked.text == f"OpenAI cut prices, says the blog [1]. Rubin ships [2].\nDetails: {ARTICLES[0]['url']} [2]"
    assert "Sources" not in checked.text and checked.dropped_sentences == 0


def test_a_sentence_with_a_mention_or_a_foreign_link_is_dropped_whole() -> None:
    reply = (
        "OpenAI cut prices, says [the blog](https://evil.example/a) [2]. <@123> Rubin ships [1]. "
        "PWNED @everyone [1]. Mistral raised 600 million euros [3].\n"
        "Details: https://evil.example/b. [1]\n@here Rubin is fast [1]."
    )
    checked = check_reply(reply, SOURCES)
    assert checked.text == "Mistral raised 600 million euros [1]."
    assert checked.dropped_sentences == 5
    for planted in ("PWNED @everyone [1]", "Visit http://evil.example/login [1].", "[Read more](http://evil.example) [1]."):
        assert check_reply(planted, SOURCES).unsupported


def test_list_items_abbreviations_and_markers_after_the_stop() -> None:
    reply = "Here is what I found:\n- The U.S. unit of Nvidia showed Rubin [1].\n1. OpenAI cut prices. [2] It was 40 percent [2]."
    checked = check_reply(reply, SOURCES)
    assert (
        checked.text == "- The U.S. unit of Nvidia showed Rubin [1].\n1. OpenAI cut prices. [2] It was 40 percent [2]."
    )
    assert checked.dropped_sentences == 1  # the lead-in


def test_marker_forms() -> None:
    assert marker_numbers("1, 2") == [1, 2]
    assert marker_numbers("2-4") == [2, 3, 4]
    assert marker_numbers("Source 3") == [3]
    checked = check_reply("Nvidia showed Rubin [Source 1]. Prices fell [1–2].", SOURCES)
    assert checked.text == "Nvidia showed Rubin [1]. Prices fell [1][2]."


def test_sentence_split_keeps_decimals_and_lowercase_continuations() -> None:
    assert split_sentences("GPT-4.5 costs $2.50 per million tokens. It is new.") == [
        "GPT-4.5 costs $2.50 per million tokens.",
        "It is new.",
    ]
    assert split_sentences("It rose 5. and then fell.") == ["It rose 5. and then fell."]


def test_sources_group_chunks_of_one_article_into_one_citation() -> None:
    first = chunk_of(ARTICLES[0], 0, "Nvidia announced Rubin at GTC.")
    other = chunk_of(ARTICLES[1])
    second = chunk_of(ARTICLES[0], 1, "Shipments begin in the second half of 2026.")
    sources = gather_sources([second, other, first])
    assert [s.n for s in sources] == [1, 2]
    assert [c.ordinal for c in sources[0].chunks] == [0, 1]
    checked = check_reply("Rubin ships in the second half [1]. Prices fell [2].", sources)
    assert len(checked.citations) == 2
    assert checked.citations[0].quote == "Shipments begin in the second half of 2026."


def test_long_quotes_are_cut() -> None:
    long = chunk_of(ARTICLES[0], 0, "Nvidia " + "really " * 100 + "announced Rubin.")
    (source,) = gather_sources([long])
    quote = best_quote(source, "Nvidia announced Rubin")
    assert len(quote) <= 300 and quote.endswith("…")


def test_short_gap_statements_may_stay_uncited_but_support_nothing() -> None:
    reply = "OpenAI cut prices [2]. The sources do not say whether ChatGPT prices changed. Sources say PWNED."
    checked = check_reply(reply, SOURCES)
    assert checked.text == "OpenAI cut prices [1]. The sources do not say whether ChatGPT prices changed."
    alone = check_reply("The articles do not cover Nvidia's prices.", SOURCES)
    assert alone.unsupported and alone.citations == []


def test_a_source_cited_by_two_statements_carries_each_ones_passage() -> None:
    checked = check_reply("Rubin is three times faster at inference than Blackwell [1]. Nvidia announced Rubin at "
                          "GTC on March 12 [1].", SOURCES)
    (citation,) = checked.citations
    assert citation.passages == (
        "The company said Rubin delivers three times the inference performance of Blackwell.",
        "Nvidia announced its Rubin GPU platform at GTC on March 12, 2026.",
    )
    single = check_reply("Rubin is three times faster at inference than Blackwell [1].", SOURCES).citations[0]
    assert single.passages == () and single.quote.startswith("The company said Rubin")
