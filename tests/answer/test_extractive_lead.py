"""The extractive answer as a user sees it, over a real embedded store: the led answer (a name, a figure,
a date) on the first line, none when the sources disagree, boilerplate and off-topic sentences never
quoted, outlets compared side by side, and no sentence quoted without the one its "She" or "The
company" points back to. Real Chroma, the real MiniLM embedder, the real answer service."""

from __future__ import annotations

import re

import pytest

from answer.retrieve import Retrieval
from answer.service import AnswerService
from answer.types import Answer, Citation
from newsdesk.settings import AnswerSettings
from tests.answer.conftest import Article, make_retrieval, store_with
from vectorstore.store import Store
from vectorstore.text import split_sentences

PROMO = "Sign up for the Circuit Daily newsletter to get the best AI stories in your inbox every morning."
READERS = ("More than 2 million readers sign up for the Circuit Daily newsletter to get the best AI stories in "
           "your inbox every morning, the company said.")

OKAFOR = [
    Article("https://ledger.example/kestrel-okafor", "Kestrel investors go to court", "Tech Ledger", "2026-09-14",
            ["Dara Okafor, the founder of the robotics startup Kestrel, was accused of misusing $40 million of "
             "investor money in a lawsuit filed in Delaware on Monday. The investors say Okafor moved the money "
             "into a property company he controls. Okafor denied the claims through a spokesperson."]),
    Article("https://botwire.example/kestrel-lawsuit", "Robot maker Kestrel faces investor suit", "Bot Wire",
            "2026-09-15",
            ["Investors in Kestrel, a warehouse robotics startup based in Austin, are suing its founder, Dara Okafor. "
             "The suit says Okafor misused investor money raised to build a parcel-sorting factory. "
             "Okafor said every payment had been approved by the board."]),
    Article("https://capitalbrief.example/kestrel-board", "Kestrel's board hires an auditor", "Capital Brief",
            "2026-09-20",
            ["The board of Kestrel met on Friday to discuss the lawsuit against Okafor. "
             "Marcus Lind, the chairman of the board, said an outside auditor would review the startup's accounts. "
             "Okafor, who founded the robotics startup in 2019, has not stepped down."]),
]
SOLACE = [
    Article("https://ledger.example/northwind-solace", "Northwind Cloud bets on humanoid robots", "Tech Ledger",
            "2026-08-03",
            ["Northwind Cloud will invest $4 billion in Solace Robotics, the humanoid robot maker said on Monday. "
             "The deal gives Northwind Cloud a minority stake and makes it the main supplier of Solace's computing "
             "power. Solace Robotics was founded in 2022 by former car engineers in Munich."]),
    Article("https://circuit.example/solace-deal", "Solace Robotics lands a cloud giant", "Circuit Daily",
            "2026-08-04",
            ["Solace Robotics has agreed to take $4 billion from Northwind Cloud in exchange for a minority stake. "
             "Northwind Cloud said the investment would be paid in cash and cloud credits over three years. "
             + PROMO]),
]
FIGURES = [
    Article("https://ledger.example/vantor-round", "Vantor AI raises a giant round", "Tech Ledger", "2026-07-02",
            ["Vantor AI, a startup that builds speech models for call centers, raised $2.5 billion in a funding "
             "round led by Harbor Peak Capital. The round values Vantor AI at $18 billion. "
             "Vantor AI plans to open offices in Seoul and Toronto next year."]),
    Article("https://ledger.example/orbitra-pylon", "Orbitra rents data center space from Pylon", "Tech Ledger",
            "2026-10-20",
            ["Orbitra signed a $3.2 billion deal to rent data center capacity from Pylon Compute for five years. "
             "The contract covers three sites in Texas."]),
    Article("https://botwire.example/pylon-orbitra", "Pylon Compute wins Orbitra contract", "Bot Wire",
            "2026-10-21",
            ["Pylon Compute won a $3.5 billion deal to rent data center capacity to Orbitra for five years, "
             "people familiar with the matter said. Pylon Compute will build a fourth site for the contract."]),
]
MERIDIAN = Article(  # published on Thursday 8 October 2026; "on Tuesday" is the 6th
    "https://botwire.example/halcyon-meridian", "Halcyon Labs releases Meridian", "Bot Wire", "2026-10-08",
    ["Halcyon Labs released Meridian, its first open-weight coding model, on Tuesday. "
     "Meridian can write and test code in twelve programming languages."])
ASTER = [
    Article("https://ledger.example/aster-lisbon", "Aster opens a research lab in Lisbon", "Tech Ledger",
            "2026-05-10",
            ["Aster Systems is opening a new AI research lab in Lisbon. "
             "Priya Raman will lead the new lab, which will focus on robot learning."]),
    Article("https://botwire.example/aster-lab", "Aster names a lab chief", "Bot Wire", "2026-05-11",
            ["Aster Systems picked a director for its new research lab in Lisbon. "
             "Tomas Berg will lead the new lab, which plans to hire 80 researchers."]),
]
QUILL = "https://circuit.example/quill-digest"
PRESS = "https://pressline.example/circuit-daily-readers"
CIRCUIT = [  # one outlet, three topics, one promo at the end of each
    Article(QUILL, "Quill writes your morning news digest", "Circuit Daily", "2026-06-12",
            ["Quill, a startup in Dublin, launched an app that writes a personal newsletter from the stories a "
             "reader saves during the day. Quill's AI ranks the saved stories and sends the best ones to the "
             "reader's inbox every morning. " + PROMO]),
    Article("https://circuit.example/fennic-earbuds", "Fennic's earbuds translate in real time", "Circuit Daily",
            "2026-06-20",
            ["Fennic released earbuds that translate speech between nine languages in real time. "
             "The earbuds run a small speech model on the device, so no audio leaves the phone. " + PROMO]),
    Article(PRESS, "Circuit Daily passes two million readers", "Press Line", "2026-07-01",
            ["Circuit Daily, the AI news site, said its audience grew sharply this year. " + READERS + " "
             "The site plans to launch a weekly podcast in 2027."]),
]
HALO = "https://ledger.example/brightline-halo"
SHARES = "https://botwire.example/brightline-shares"
OFF_TOPIC = "Investors sold the stock, and the share price fell sharply in early trading."
BRIGHTLINE = [
    Article(HALO, "Brightline ships its Halo chip", "Tech Ledger", "2026-11-02",
            ["Brightline began shipping Halo, an inference chip for data centers, to cloud customers this month. "
             "Halo runs large language models at half the power of a graphics processor."]),
    Article(SHARES, "Brightline cuts its forecast", "Bot Wire", "2026-11-05",
            ["Brightline cut its annual sales forecast on Wednesday. " + OFF_TOPIC]),
]
VERGE = "https://theverge.example/nimbus-lens-review"
WIRED = "https://wired.example/nimbus-lens-tested"
NIMBUS = [
    Article(VERGE, "Nimbus Lens review: smart glasses with a thirst", "The Verge", "2026-10-12",
            ["The Nimbus Lens glasses answer questions about what you see with an onboard AI assistant. "
             "Battery life is the weak spot of the Nimbus Lens: the glasses lasted barely three hours in our "
             "testing. At $599, the glasses cost more than most phones."]),
    Article(WIRED, "Nimbus Lens smart glasses, tested", "Wired", "2026-10-14",
            ["Nimbus Lens is the most capable pair of AI glasses we have tried this year. "
             "The battery life of the Nimbus Lens was better than we expected, at about six hours of mixed use. "
             "The frames are heavy, though, and the hinges creak."]),
]
CORVID = Article(
    "https://ledger.example/corvid-x2", "Corvid sets a date for its X2 chip", "Tech Ledger", "2026-11-10",
    ["Lena Vos runs the hardware group at Corvid, a chip designer in Oslo. "
     "She said the Corvid X2 inference chip will ship to cloud customers in March. "
     "The company said early orders had already filled its first production run."])
ARTICLES = [*OKAFOR, *SOLACE, *FIGURES, MERIDIAN, *ASTER, *CIRCUIT, *BRIGHTLINE, *NIMBUS, CORVID]
SETTINGS = AnswerSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def lead_store(tmp_path_factory: pytest.TempPathFactory, embedder) -> Store:
    return store_with(ARTICLES, tmp_path_factory.mktemp("lead"), embedder)


@pytest.fixture
def retrieval(lead_store: Store, tmp_path) -> Retrieval:
    return make_retrieval(lead_store, tmp_path / "lexical")


def ask(retrieval: Retrieval, question: str) -> Answer:
    """What a user sees: the answer service's default (extractive) composer, boilerplate wired in."""
    service = AnswerService(retrieval, SETTINGS)
    try:
        return service.answer_sync(question)
    finally:
        service.close()


def quotes(text: str) -> list[tuple[str, int]]:
    """(quoted passage, its citation number) for each "passage [n]" of an answer's text."""
    return [(q.strip(), int(n)) for q, n in re.findall(r"(.+?) \[(\d+)\]", text)]


def cited(answer: Answer, n: int) -> Citation:
    return next(c for c in answer.citations if c.n == n)



def lines(answer: Answer) -> tuple[str, str]:
    """The lead line and the quotes below it."""
    first, _, rest = answer.text.partition("\n")
    return first, rest


def marks_after(text: str, said: str) -> list[int]:
    """The citation numbers right after `said` on the lead line ("**$3.2 billion** [1][3]" -> [1, 3])."""
    m = re.search(re.escape(f"**{said}**") + r" ((?:\[\d+\])+)", text)
    assert m, f"{said!r} not led in {text!r}"
    return [int(n) for n in re.findall(r"\d+", m.group(1))]


# ---- the led answer ---------------------------------------------------------------------------------

def test_a_who_question_leads_with_the_full_name_the_sources_use(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "Who is the founder accused of misusing investor money at the robotics startup?")
    assert not answer.refused and answer.lead == "Dara Okafor", answer.text  # though most sentences say "Okafor"
    first, rest = lines(answer)
    assert re.fullmatch(r"\*\*Dara Okafor\*\* (\[\d+\])+", first), answer.text
    assert {cited(answer, n).url for n in marks_after(first, "Dara Okafor")} <= {a.url for a in OKAFOR}
    # Below it, the sentences that show it, each cited from the article it comes from.
    assert rest and re.fullmatch(r"(?:[^\[\]\n]+ \[\d+\] ?)+", rest), answer.text
    assert "misusing" in rest and "Okafor" in rest
    for passage, n in quotes(rest):
        assert passage in cited(answer, n).quote and cited(answer, n).url in {a.url for a in OKAFOR}


def test_which_company_leads_with_the_one_the_question_does_not_name(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "Which company will invest $4 billion in Solace Robotics?")
    assert not answer.refused and answer.lead == "Northwind Cloud", answer.text
    first, rest = lines(answer)
    assert re.fullmatch(r"\*\*Northwind Cloud\*\* (\[\d+\])+", first), answer.text
    assert {cited(answer, n).url for n in marks_after(first, "Northwind Cloud")} <= {a.url for a in SOLACE}
    assert "Northwind Cloud will invest $4 billion in Solace Robotics" in rest


def test_how_much_leads_with_the_figure(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "How much did Vantor AI raise in its funding round?")
    assert not answer.refused and answer.lead == "$2.5 billion", answer.text
    first, rest = lines(answer)
    assert re.fullmatch(r"\*\*\$2\.5 billion\*\* (\[\d+\])+", first), answer.text
    assert {cited(answer, n).url for n in marks_after(first, "$2.5 billion")} == {FIGURES[0].url}
    assert "raised $2.5 billion in a funding round" in rest


def test_sources_giving_different_figures_are_each_led_with_their_own_citation(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "How much is Orbitra's deal to rent data center capacity from Pylon Compute worth?")
    assert not answer.refused, answer.text
    first, _ = lines(answer)
    assert re.fullmatch(r"\*\*\$3\.[25] billion\*\* \[\d+\]; \*\*\$3\.[25] billion\*\* \[\d+\]", first), answer.text
    assert set(answer.lead.split("; ")) == {"$3.2 billion", "$3.5 billion"}
    [low], [high] = marks_after(first, "$3.2 billion"), marks_after(first, "$3.5 billion")
    assert low != high
    assert cited(answer, low).url == FIGURES[1].url and "$3.2 billion" in cited(answer, low).quote
    assert cited(answer, high).url == FIGURES[2].url and "$3.5 billion" in cited(answer, high).quote


def test_when_leads_with_the_day_a_weekday_means(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "When did Halcyon Labs release its Meridian coding model?")
    # The article is of Thursday 8 October 2026; its "on Tuesday" is the 6th.
    assert not answer.refused and answer.lead == "Tuesday, 6 October 2026", answer.text
    first, rest = lines(answer)
    assert re.fullmatch(r"\*\*Tuesday, 6 October 2026\*\* \[\d+\]", first), answer.text
    assert [cited(answer, n).url for n in marks_after(first, "Tuesday, 6 October 2026")] == [MERIDIAN.url]
    assert "released Meridian" in rest


def test_nothing_leads_when_the_sources_name_different_people(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "Who will lead Aster Systems' new research lab in Lisbon?")
    assert answer.lead == "" and not answer.text.startswith("**"), answer.text
    assert not answer.refused and "will lead the new lab" in answer.text  # the quotes stand alone
    assert {c.url for c in answer.citations} & {a.url for a in ASTER}


# ---- what is never quoted -------------------------------------------------------------------------

def test_an_outlet_s_promo_is_never_quoted(retrieval: Retrieval) -> None:
    assert retrieval.boilerplate([PROMO, READERS]) == {PROMO}  # in three Circuit Daily articles, word for word
    # The promo shares more of this question's words than any sentence of the Quill article does.
    answer = ask(retrieval, "How do readers sign up to get Quill's AI newsletter?")
    assert not answer.refused and QUILL in {c.url for c in answer.citations}, answer.text
    assert "Sign up for the Circuit Daily" not in answer.text
    assert not any("Sign up for the Circuit Daily" in c.quote for c in answer.citations)


def test_the_promo_s_words_inside_a_sentence_of_news_are_quoted(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "How many readers sign up for the Circuit Daily newsletter?")
    assert not answer.refused and READERS in answer.text, answer.text
    assert any(c.url == PRESS and READERS in c.quote for c in answer.citations)
    assert PROMO not in answer.text


def test_a_sentence_about_something_else_is_never_quoted(retrieval: Retrieval) -> None:
    # The Bot Wire article on Brightline's shares is retrieved too (it names Brightline), and its
    # "share price" sentence is the only one with the question's "pricing" in it.
    answer = ask(retrieval, "How is Brightline pricing its Halo inference chip for data centers?")
    assert not answer.refused and HALO in {c.url for c in answer.citations}, answer.text
    assert "share price" not in answer.text
    assert not any("share price" in c.quote for c in answer.citations)


def test_a_sentence_sharing_only_the_name_and_its_with_the_question_is_not_quoted(retrieval: Retrieval) -> None:
    # Same question: the article's other sentence, about the sales forecast, says nothing of the chip either.
    answer = ask(retrieval, "How is Brightline pricing its Halo inference chip for data centers?")
    assert "sales forecast" not in answer.text, answer.text
    assert SHARES not in {c.url for c in answer.citations}


_DANGLING = re.compile(r"^(?:He|She|It|They|The company)\b")


def test_a_sentence_pointing_back_is_quoted_only_with_the_one_before_it(retrieval: Retrieval) -> None:
    answer = ask(retrieval, "How soon will Corvid's X2 inference chip ship to cloud customers?")
    assert not answer.refused, answer.text
    passages = quotes(answer.text)
    for passage, _ in passages:  # within a passage, a "She said" follows the sentence it points back to
        assert not _DANGLING.match(split_sentences(passage)[0]), answer.text
    she = next(p for p, _ in passages if "She said the Corvid X2 inference chip will ship" in p)
    assert she.startswith("Lena Vos runs the hardware group at Corvid, a chip designer in Oslo. She said")
    # "The company said ..." follows a sentence that itself points back: not quoted at all.
    assert "early orders" not in answer.text


# ---- comparisons ----------------------------------------------------------------------------------

COMPARISON = "Did The Verge and Wired agree that the Nimbus Lens smart glasses have poor battery life?"


def test_a_comparison_gives_each_outlet_its_line_and_no_verdict(retrieval: Retrieval) -> None:
    answer = ask(retrieval, COMPARISON)
    assert not answer.refused and answer.lead == "", answer.text
    rows = answer.text.split("\n")
    assert len(rows) == 2, answer.text
    for row, site, url in zip(rows, ["The Verge", "Wired"], [VERGE, WIRED], strict=True):
        m = re.fullmatch(rf"\*\*{site}\*\*: (.+) \[(\d+)\]", row)
        assert m, answer.text
        assert cited(answer, int(m.group(2))).url == url and m.group(1) in cited(answer, int(m.group(2))).quote
    assert not re.search(r"\b(?:Yes|No)\b", answer.text)


def test_each_outlet_s_line_says_what_it_says_about_the_point(retrieval: Retrieval) -> None:
    answer = ask(retrieval, COMPARISON)
    rows = answer.text.split("\n")
    assert len(rows) == 2 and all("battery life" in row.lower() for row in rows), answer.text


# ---- a name said only where a sentence starts ---------------------------------------------------

LEDES = [  # each outlet introduces the founder in its first words, then says "Okafor"
    OKAFOR[0],
    Article(OKAFOR[1].url, OKAFOR[1].title, OKAFOR[1].site, OKAFOR[1].published,
            ["Dara Okafor, who founded the warehouse robotics startup Kestrel in Austin, is being sued by "
             "its investors. The suit says Okafor misused investor money raised to build a parcel-sorting "
             "factory. Okafor said every payment had been approved by the board."]),
    OKAFOR[2],
]


def test_a_who_question_never_leads_with_a_company_when_the_person_is_unclear(
        tmp_path_factory: pytest.TempPathFactory, embedder, tmp_path) -> None:
    # "Dara" is never said mid-sentence here, so only "Okafor" is certainly a name: a surname alone is not
    # a person's full name, and the answer leads with nothing rather than with "Kestrel" or "Solace
    # Robotics" (both the shape of a person's name); the sentence that names her comes first.
    others = [a for a in ARTICLES if a not in OKAFOR]
    store = store_with([*LEDES, *others], tmp_path_factory.mktemp("ledes"), embedder)
    answer = ask(make_retrieval(store, tmp_path / "lexical"),
                 "Who is the founder accused of misusing investor money at the robotics startup?")
    assert not answer.refused and answer.lead == "" and not answer.text.startswith("**"), answer.text
    assert answer.text.startswith("Dara Okafor, "), answer.text
