"""How well the LLM support check (answer/support.py) tells planted errors from faithful sentences, on
scripted replies built from the MultiHop-RAG corpus (../shared/eval/multihop), and what it costs.

    python bench/support.py [--limit 400]

The rules that make the set, written before the check was tuned:
- faithful: each gold evidence `fact` of the dev questions (a sentence copied from its article), cited to
  its article, as is, and paraphrased by rule where the rule applies: "percent" -> "%", "$3.2 billion" ->
  "$3.2bn", a leading "According to ..., " dropped, "X said that Y" -> "Y";
- planted, each made from a faithful sentence that has the thing to change:
  a figure changed by half again (digits kept in the same style), a name swapped for a name of another
  article that this article never says, a place appended that the article never says (", in Lisbon"),
  the sentence cited to another article that does not say it (when a retrieved article does, a
  re-citation to it counts as caught; no sentence is counted twice);
- the article text the check reads is the article's body (the check also accepts retrieved chunks).
Caught = the check does not keep the planted sentence on the article cited; kept = a faithful sentence
keeps its citation. Targets: caught >= 0.95, kept >= 0.95; cost per 8-chunk answer printed (target <150 ms).
The last line is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from answer.support import facts_of, supporting  # noqa: E402

MULTIHOP = ROOT.parent / "shared" / "eval" / "multihop"
PLACES = ["Lisbon", "Reykjavik", "Montevideo", "Tbilisi", "Windhoek"]
_FIG = re.compile(r"\d+(?:\.\d+)?")


def paraphrase(sentence: str) -> str | None:
    out = sentence
    out = re.sub(r"(\d) percent\b", r"\1%", out)
    out = re.sub(r"\$(\d+(?:\.\d+)?) billion\b", r"$\1bn", out)
    out = re.sub(r"^According to [^,]{3,60}, ", "", out)
    out = re.sub(r"^[A-Z][\w .'-]{2,40} said that ", "", out)
    return out[:1].upper() + out[1:] if out != sentence else None


def wrong_figure(sentence: str, rng: random.Random) -> str | None:
    figures = [m for m in _FIG.finditer(sentence) if not re.fullmatch(r"(?:19|20)\d\d", m.group(0))]
    if not figures:
        return None
    m = rng.choice(figures)
    value = float(m.group(0))
    new = value * 1.5 + (1 if value < 2 else 0)
    text = f"{new:.{len(m.group(0).split('.')[1]) if '.' in m.group(0) else 0}f}"
    return sentence[:m.start()] + text + sentence[m.end():] if text != m.group(0) else None


def answer_cost(facts: list[tuple[str, str]], corpus: dict, rng: random.Random, answers: int = 100) -> float:
    """ms to check a four-sentence reply citing four sources against 8 retrieved chunks (~1,000 characters
    each, as the LLM gets them), what an answer adds."""
    from answer.citations import check_reply
    from answer.prompts import Source
    from vectorstore.records import ChunkRecord

    times = []
    for i in range(answers):
        picked = [facts[(i * 4 + j) % len(facts)] for j in range(4)]
        sources = []
        for n, (_, url) in enumerate(picked, 1):
            body = corpus[url]["body"]
            chunks = tuple(ChunkRecord(chunk_id=f"c{n}{k}", doc_id=f"d{n}", text=body[k * 1000:(k + 1) * 1000],
                                       header="", ordinal=k, char_start=0, char_end=0, version="v", url=url,
                                       title=corpus[url]["title"], site="s") for k in range(2))
            sources.append(Source(n, f"d{n}", url, corpus[url]["title"], "s", "", chunks))
        reply = " ".join(f"{sentence.rstrip('.')} [{n}]." for n, (sentence, _) in enumerate(picked, 1))
        started = time.perf_counter()
        check_reply(reply, sources)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return round(times[len(times) // 2], 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=400, help="faithful sentences to build from")
    args = parser.parse_args()
    rng = random.Random(7)
    corpus = {a["url"]: a for a in json.loads((MULTIHOP / "corpus.json").read_text())}
    facts = []
    for q in json.loads((MULTIHOP / "queries-dev.json").read_text()):
        for e in q["evidence_list"]:
            if e["url"] in corpus and 8 <= len(e["fact"].split()) <= 60:
                facts.append((e["fact"].strip(), e["url"]))
    facts = list(dict.fromkeys(facts))
    rng.shuffle(facts)
    facts = facts[: args.limit]
    names_by_url = {u: set(facts_of(a["title"] + ". " + a["body"][:3000]).names) for u, a in corpus.items()}
    all_names = sorted({n for ns in names_by_url.values() for n in ns if " " in n})
    urls = list(corpus)
    rows = []
    started = time.perf_counter()
    checks = 0
    for sentence, url in facts:
        other = rng.choice([u for u in urls if u != url])
        texts = {1: corpus[url]["title"] + " " + corpus[url]["body"], 2: corpus[other]["title"] + " " + corpus[other]["body"]}
        cases = [("faithful", sentence, [1])]
        para = paraphrase(sentence)
        if para:
            cases.append(("paraphrase", para, [1]))
        if (fig := wrong_figure(sentence, rng)):
            cases.append(("figure", fig, [1]))
        own = facts_of(sentence).names
        if own:
            swap = rng.choice([n for n in all_names if n.lower() not in texts[1].lower()])
            cases.append(("name", sentence.replace(own[0], swap, 1), [1]))
        place = rng.choice(PLACES)
        if place.lower() not in texts[1].lower():
            cases.append(("place", re.sub(r"[.!?]?$", f", in {place}.", sentence, count=1), [1]))
        if facts_of(sentence) and not (held := supporting(sentence, [2], {2: texts[2]})) == [2]:
            cases.append(("wrong article", sentence, [2]))
        for kind, text, cited in cases:
            checks += 1
            held = supporting(text, cited, texts)
            if kind in ("faithful", "paraphrase"):
                rows.append((kind, held == cited))
            elif kind == "wrong article":
                rows.append((kind, held != cited))  # re-cited to the article that says it, or dropped
            else:
                rows.append((kind, held != cited))
    elapsed = time.perf_counter() - started
    figures: dict[str, object] = {}
    for kind in ("faithful", "paraphrase", "figure", "name", "place", "wrong article"):
        got = [ok for k, ok in rows if k == kind]
        figures[kind] = {"n": len(got), "rate": round(sum(got) / len(got), 3) if got else None}
    kept = [ok for k, ok in rows if k in ("faithful", "paraphrase")]
    caught = [ok for k, ok in rows if k not in ("faithful", "paraphrase")]
    figures["kept"] = round(sum(kept) / len(kept), 3)
    figures["caught"] = round(sum(caught) / len(caught), 3)
    figures["scripted_sentences"] = len(rows)
    figures["ms_per_check_whole_article"] = round(1000 * elapsed / checks, 2)
    figures["ms_per_answer_8_chunks"] = answer_cost(facts, corpus, rng)
    for kind, value in figures.items():
        print(f"{kind:>28}: {value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
