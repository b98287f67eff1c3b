"""Question -> context: question understanding plus hybrid search. What the bot, the CLI and eval use.

A question that names outlets gets one site-filtered search per outlet besides the plain one; a question
made of several claims ("who, according to X, did A, was accused of B and said C?") gets one lexical
search per claim. The lists are merged round-robin, so each outlet and each claim it needs is in the
context, and the merged chunks are then ordered by how many lists ranked them high and by their single
best sentence's match with the question (what a multi-part question asks is usually one sentence of
each source). Dates become published_ts filters; "latest" favours newer articles; at most
`max_per_doc` chunks per article keep multi-source questions covered.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from newsdesk.settings import RetrievalSettings
from vectorstore.records import Scope
from vectorstore.search import Hit, HybridRetriever
from vectorstore.text import split_sentences

from .dates import parse_dates, strip_dates
from .query import Mention, QueryPlan, understand, without_sites
from .subject import shared_names
from .types import Turn
from .words import claims_of

log = logging.getLogger(__name__)

FOLLOW_UP_WEIGHT = 0.5  # an earlier question's terms, in the lexical query of a follow-up
CLAUSE_WEIGHT = 1.0  # what the question says of an outlet, on top of the whole question, in its search
# An outlet's own search gives one chunk per article, so a question needing two articles of one outlet
# gets both (dev queries: all-gold@10 0.63 -> 0.70, fact hits@10 0.93 -> 0.92).
SITE_MAX_PER_DOC = 1
# Outlet searches are BM25 only: a site-filtered Chroma query is the costliest step at 100k chunks, and
# at a tenth of BM25's weight the vectors change little there (measured on the dev queries, see report).
SITE_DENSE = False
# Claim searches (measured on the dev queries: fact hits@10 0.905 -> 0.922, all-gold@10 0.66 -> 0.68):
CLAUSE_K = 5  # chunks each claim search contributes (one per article)
CLAUSE_CONTEXT = 0.1  # the whole question's weight under a claim's own words
# The names the first search's articles share (the question's unnamed subject), under the words of each
# claim and of each outlet mention (dev queries: all-gold@10 0.738 -> 0.756 with claims, -> 0.765 with
# outlets too; inference questions 0.589 -> 0.652; fact hits@10 0.930 -> 0.933).
SUBJECT_WEIGHT = 0.5
ORDER_RRF_K = 20  # "ranked high by several lists", as reciprocal ranks


def _now() -> datetime:
    return datetime.now(UTC)


class Retrieval:
    def __init__(self, retriever: HybridRetriever, settings: RetrievalSettings,
                 clock: Callable[[], datetime] | None = None):
        self.retriever = retriever
        self.settings = settings
        self.clock = clock or _now
        self.clause_weight = CLAUSE_WEIGHT
        self.site_max_per_doc: int | None = SITE_MAX_PER_DOC
        self.site_dense = SITE_DENSE
        self.subject_weight = SUBJECT_WEIGHT

    def scoped(self, libraries: Collection[str] | None, scope: Scope | None = None) -> Retrieval:
        """The same retrieval drawing only on `libraries` (None: every library), within a channel's
        `scope` when given."""
        view = copy.copy(self)
        view.retriever = self.retriever.scoped(libraries, scope)
        return view

    def boilerplate(self, sentences: Iterable[str]) -> set[str]:
        """Those of `sentences` that recur word for word across the articles it draws on (never quoted)."""
        return self.retriever.boilerplate(list(sentences))

    def known_sites(self) -> list[str]:
        return self.retriever.sites()

    def plan(self, question: str, history: Sequence[Turn] = ()) -> QueryPlan:
        plan = understand(question, self.clock(), self.known_sites())
        if plan.anchor is not None and not plan.dated:
            plan = self._date_anchor(plan)
        return plan

    def retrieve(self, question: str, history: Sequence[Turn] = (), *, k: int | None = None) -> list[Hit]:
        plan = self.plan(question, history)
        if plan.unknown_outlets:
            # "What did a Bloomberg article say?" with nothing from Bloomberg: other outlets' text would
            # only let an answer put words in Bloomberg's mouth, so there is no context to answer from.
            log.info("question cites outlets the store has nothing from: %s", plan.unknown_outlets)
            return []
        return self.search(plan, history, k=k)

    def search(self, plan: QueryPlan, history: Sequence[Turn] = (), *, k: int | None = None) -> list[Hit]:
        k = k or self.settings.top_k
        earlier = [t.question for t in history if t.question.strip()][-1:]
        extra = [(q, FOLLOW_UP_WEIGHT) for q in earlier]
        text = " ".join([*earlier, plan.text]) if earlier else plan.text

        def run(window: tuple[int | None, int | None], sites: Sequence[str] = (), clause: str = "",
                focus: Sequence[tuple[str, float]] = ()) -> list[Hit]:
            pieces = [*extra, (clause, self.clause_weight)] if clause and self.clause_weight else extra
            pieces = [*pieces, *focus]
            per_doc = self.site_max_per_doc if sites else None
            dense = self.site_dense or not sites
            hits = self.retriever.search(text, sites=sites, since_ts=window[0], until_ts=window[1],
                                         recency=plan.recency, k=k, extra=pieces, max_per_doc=per_doc, dense=dense)
            if not hits and plan.soft and window != (None, None):
                hits = self.retriever.search(text, sites=sites, recency=plan.recency, k=k, extra=pieces,
                                             max_per_doc=per_doc, dense=dense)
            return hits

        main = run((plan.since_ts, plan.until_ts))
        # One search per outlet mention, focused on what the question says there and on the dates said
        # there ("the TechCrunch report on X published on May 2, and The Verge's on Y").
        # A mention without dates of its own is bounded by what bounds the whole question ("last week").
        single = len(plan.mentions) == 1

        def window(m: Mention) -> tuple[int | None, int | None]:
            if single:
                return plan.since_ts, plan.until_ts
            return (m.since_ts, m.until_ts) if m.since_ts is not None or m.until_ts is not None else plan.period

        claims = self.claims(plan) if self.settings.max_claims else []
        # The searches for part of the question (an outlet, a claim) also look for its unnamed subject.
        subject = (shared_names(plan.text, main, self.retriever.term_idfs)
                   if (claims or plan.sites) and self.subject_weight else [])
        focus = [(" ".join(subject), self.subject_weight)] if subject else []
        per_site = [run(window(m), m.sites, m.clause, focus) for m in plan.mentions] if plan.sites else []
        claim_lists = self._claim_lists(plan, claims, focus)
        lists = [*per_site, *claim_lists, main]
        if claims and plan.dated and not plan.cued:
            # Dates said of events inside a many-part question ("a product going on sale on November 16",
            # "its June 2017 launch") need not be the articles' dates: an undated search joins in.
            lists.append(self.retriever.search(text, recency=plan.recency, k=k, extra=extra))
        if len(lists) == 1:
            return main
        candidates = list({hit.chunk.chunk_id: hit for hits in lists for hit in hits}.values())
        question = strip_dates(without_sites(plan.text, plan.sites))
        # With several outlet mentions, what the question says at each one picks that outlet's article too.
        said = [m for m in plan.mentions if len(plan.mentions) > 1]
        matches = self.sentence_matches([question, *(strip_dates(c) for c in claims),
                                         *(strip_dates(m.clause) for m in said)], candidates)
        claim_matches, mention_matches = matches[1:1 + len(claims)], matches[1 + len(claims):]
        votes = rrf_votes(lists)
        first = pick_each([(candidates, match) for match in claim_matches], votes)
        taken = {hit.chunk.doc_id for hit in first}
        first += [hit for hit in pick_each([([h for h in candidates if h.chunk.site in m.sites], match)
                                            for m, match in zip(said, mention_matches, strict=True)], votes)
                  if hit.chunk.doc_id not in taken]
        chosen = merge_round_robin(lists, k, self.settings.max_per_doc, first=first)
        return self._order(chosen, votes, matches[0], claim_matches)

    def claims(self, plan: QueryPlan) -> list[str]:
        """The separate claims of a question, outlets left out; none when it makes just one."""
        parts = claims_of(without_sites(plan.text, plan.sites))
        return parts[: self.settings.max_claims] if len(parts) >= 2 else []

    def _claim_lists(self, plan: QueryPlan, claims: Sequence[str],
                     focus: Sequence[tuple[str, float]] = ()) -> list[list[Hit]]:
        """One BM25 search per claim, within the question's outlets, one chunk per article, with `focus`
        (the question's unnamed subject, see answer/subject.py) under the claim's words. A claim's own
        dates bound it ("the report published on October 4"); a claim without dates is bounded only by
        what bounds the whole question ("last week"), as it may be about another source."""
        extra = [(plan.text, CLAUSE_CONTEXT), *focus]
        out = []
        for claim in claims:
            since, until = parse_dates(claim, self.clock())
            if since is None and until is None:
                since, until = plan.period
            out.append(self.retriever.search(claim, sites=plan.sites, since_ts=since, until_ts=until, k=CLAUSE_K,
                                             extra=extra, max_per_doc=1, dense=False))
        return out

    def _order(self, chosen: list[Hit], votes: dict[str, float], question_match: dict[str, float],
               claim_matches: Sequence[dict[str, float]]) -> list[Hit]:
        """Best first: agreement between the lists, plus the best single sentence's match with the
        question and with the claim it matches best (idf mass of shared words, outlets and dates left out),
        each scaled to the best chosen chunk's (dev queries: MRR@10 0.63 -> 0.68 -> 0.72)."""
        weight = self.settings.sentence_weight
        claim_match = {h.chunk.chunk_id: max((m.get(h.chunk.chunk_id, 0.0) for m in claim_matches), default=0.0)
                       for h in chosen}
        ids = [h.chunk.chunk_id for h in chosen]
        top_votes = max((votes.get(c, 0.0) for c in ids), default=0.0) or 1.0
        top_question = max((question_match.get(c, 0.0) for c in ids), default=0.0) or 1.0
        top_claim = max(claim_match.values(), default=0.0) or 1.0

        def score(hit: Hit) -> float:
            cid = hit.chunk.chunk_id
            return (votes.get(cid, 0.0) / top_votes + weight * question_match.get(cid, 0.0) / top_question
                    + weight * claim_match[cid] / top_claim)

        return sorted(chosen, key=score, reverse=True)  # stable: ties keep the round-robin order

    def sentence_matches(self, texts: Sequence[str], hits: Sequence[Hit]) -> list[dict[str, float]]:
        """For each text, chunk_id -> the idf mass of the text's words that the chunk's best sentence has."""
        sentences = [(hit.chunk.chunk_id, s) for hit in hits for s in split_sentences(hit.chunk.text)]
        weights = self.retriever.term_idfs([*texts, *(s for _, s in sentences)])
        out: list[dict[str, float]] = []
        for wanted in weights[: len(texts)]:
            best: dict[str, float] = {}
            for (cid, _), terms in zip(sentences, weights[len(texts):], strict=True):
                found = sum(w for tid, w in wanted.items() if tid in terms)
                best[cid] = max(best.get(cid, 0.0), found)
            out.append(best)
        return out

    def _date_anchor(self, plan: QueryPlan) -> QueryPlan:
        """"before the layoffs were reported": date the event by its best match, then bound the window."""
        assert plan.anchor is not None
        direction, event = plan.anchor
        found = self.retriever.search(event, sites=plan.sites, k=1)
        ts = found[0].chunk.published_ts if found else None
        if ts is None:
            return plan
        day = ts - ts % 86400
        if direction == "before":
            return replace(plan, until_ts=day - 1)
        return replace(plan, since_ts=day)


def pick_each(wanted: Sequence[tuple[Sequence[Hit], dict[str, float]]], votes: dict[str, float]) -> list[Hit]:
    """For each (candidates, chunk_id -> sentence match) in turn, the best matching candidate from an
    article not picked yet, ties going to the one more lists ranked high. Each claim of a many-part
    question, and each outlet it names, so brings its own article (dev queries: all-gold@10 0.70 ->
    0.72 for claims, -> 0.74 with outlets)."""
    picked: list[Hit] = []
    for candidates, match in wanted:
        docs = {hit.chunk.doc_id for hit in picked}
        best = max((h for h in candidates if h.chunk.doc_id not in docs), default=None,
                   key=lambda h: (round(match.get(h.chunk.chunk_id, 0.0), 6), votes.get(h.chunk.chunk_id, 0.0)))
        if best is not None:
            picked.append(best)
    return picked


def rrf_votes(lists: Sequence[Sequence[Hit]]) -> dict[str, float]:
    """chunk_id -> its reciprocal ranks summed over the lists: how many ranked it high."""
    votes: dict[str, float] = {}
    for hits in lists:
        for rank, hit in enumerate(hits):
            votes[hit.chunk.chunk_id] = votes.get(hit.chunk.chunk_id, 0.0) + 1.0 / (ORDER_RRF_K + rank + 1)
    return votes


def merge_round_robin(lists: Sequence[Sequence[Hit]], k: int, max_per_doc: int, first: Sequence[Hit] = ()) -> list[Hit]:
    """`first`, then the best remaining hit of each list in turn, skipping repeats and over-represented
    articles."""
    out: list[Hit] = []
    seen: set[str] = set()
    per_doc: dict[str, int] = {}

    def take(hit: Hit) -> bool:
        if hit.chunk.chunk_id in seen or per_doc.get(hit.chunk.doc_id, 0) >= max_per_doc:
            return False
        seen.add(hit.chunk.chunk_id)
        per_doc[hit.chunk.doc_id] = per_doc.get(hit.chunk.doc_id, 0) + 1
        out.append(hit)
        return True

    for hit in first[:k]:
        take(hit)
    cursors = [0] * len(lists)
    while len(out) < k and any(c < len(lst) for c, lst in zip(cursors, lists, strict=True)):
        for i, lst in enumerate(lists):
            while cursors[i] < len(lst):
                cursors[i] += 1
                if take(lst[cursors[i] - 1]):
                    break
            if len(out) == k:
                break
    return out
