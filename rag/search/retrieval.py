"""Hybrid retrieval: understand the question, restrict to the reports it is about, fuse dense and BM25
rankings, optionally rerank, and for comparisons gather evidence for every authority separately."""
from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from math import fsum  # exact: a sum over a set is the same whatever its order (hash seed)
from pathlib import Path

import numpy as np

from rag.errors import ModelUnavailable
from rag.index.embedding import Embedder, load_embedder, passage_text
from rag.index.reader import Index
from rag.index.weights import UNSEEN_WORD_WEIGHT
from rag.ingest.corpus import PIPELINE_VERSION
from rag.ofsted.glossary import expand, expanded_words
from rag.ofsted.judgements import statement_paragraphs
from rag.records import Hit, Paragraph, Report
from rag.search.fusion import reciprocal_rank_fusion
from rag.search.grammar import topic_words
from rag.search.question import Query, parse_query
from rag.search.reports import DateCue, ReportChoice, choose, date_cue
from rag.settings import Settings
from rag.text.words import content_words, join_names, split_sentences

DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
CANDIDATES = 60       # taken from each ranking before fusion
COMPARE_POOL = 15     # each authority's best candidates in a comparison, re-ordered by their best sentence
SENTENCE_WEIGHT = 2.0


@dataclass(frozen=True)
class SearchResult:
    query: Query
    hits: tuple[Hit, ...]
    by_authority: dict[str, tuple[Hit, ...]] = field(default_factory=dict)   # comparisons: each authority's own
    reports: tuple[str, ...] = ()              # the report ids searched
    choices: tuple[ReportChoice, ...] = ()     # which of each authority's reports, and what to say about it
    conflict: str = ""                         # the question named authorities outside the filter: said aloud


class Reranker:
    """A sentence-transformers CrossEncoder that rescores (question, passage) pairs."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import (
            CrossEncoder,  # heavy (torch): only when a reranker is set
        )
        try:
            self.model = CrossEncoder(model, device="cpu")
        except Exception as e:
            raise ModelUnavailable(f"Cannot load the reranker {model!r} ({e}). Point RAG_RERANKER at a local "
                                   f"CrossEncoder folder, or leave it empty to search without reranking.") from None
        self.name = model

    def rerank(self, question: str, hits: Sequence[Hit], passages: Sequence[str]) -> list[Hit]:
        if not hits:
            return []
        scores = self.model.predict([(question, p) for p in passages], show_progress_bar=False)
        order = np.argsort(-np.asarray(scores, dtype=np.float32), kind="stable")
        return [replace(hits[i], rerank_score=float(scores[i]), score=float(scores[i])) for i in order]


class Searcher:
    """Loaded once per process (index, embedder, reranker) and shared by CLI, chain and UI."""

    def __init__(self, index: Index, embedder: Embedder, *, reranker: Reranker | None = None,
                 rerank_depth: int = 30) -> None:
        self.index = index
        self.embedder = embedder
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self._lock = threading.Lock()   # the embedder is not guaranteed thread-safe
        self._statement_cache: dict[tuple[str, str], list[Paragraph]] = {}
        self.authorities = tuple(sorted({r.authority for r in index.reports.values() if r.authority}))

    # ---- public ---------------------------------------------------------------------------------------

    def search(self, question: str, k: int = 10, *, authorities: Sequence[str] | None = None,
               year: int | None = None, report_ids: Sequence[str] | None = None,
               query: Query | None = None) -> SearchResult:
        """`query`: the question already parsed (parse_query over this searcher's authorities), if it was."""
        query = query or parse_query(question, self.authorities)
        wanted = tuple(authorities) if authorities else query.authorities
        conflict = ""
        outside = [a for a in query.authorities if authorities and a not in authorities]
        if outside:
            # The question is more specific than a filter left on from an earlier question: it wins, aloud.
            wanted = query.authorities
            conflict = (f"The question names {join_names(outside)}, outside the Authorities filter "
                        f"({join_names(list(authorities))}): this answer is about {join_names(list(wanted))}.")
        if query.unknown_authorities and not wanted:
            return SearchResult(query, ())        # only authorities the corpus does not cover
        vector = self._embed(query.search_text)
        if query.is_comparison and len(wanted) >= 2:
            return replace(self._compare(query, vector, wanted, k, year, report_ids), conflict=conflict)
        reports, choices = self._reports_for(query, wanted, year, report_ids)
        hits = self._ranked(query, vector, reports, k)
        return SearchResult(query, tuple(hits), {}, tuple(reports), tuple(choices), conflict)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Searcher:
        """The searcher over the live index of settings.index, refused (IndexMismatch) when it was built by
        another embedder or pipeline. `embedder`: one already loaded, to share."""
        embedder = embedder or load_embedder(settings)
        index = Index.load(settings.index, embedder_name=embedder.name, dimension=embedder.dimension,
                           pipeline_version=PIPELINE_VERSION)
        reranker = Reranker(settings.reranker) if settings.reranker else None
        return cls(index, embedder, reranker=reranker, rerank_depth=settings.rerank_depth)

    def reopened(self, index_dir: Path) -> Searcher:
        """A searcher over the live version of `index_dir`, with this one's models."""
        index = Index.load(index_dir, embedder_name=self.embedder.name,
                           dimension=self.embedder.dimension, pipeline_version=PIPELINE_VERSION)
        return Searcher(index, self.embedder, reranker=self.reranker, rerank_depth=self.rerank_depth)

    def neighbours(self, paragraph_id: str, n: int = 2) -> list[Paragraph]:
        return self.index.neighbours(paragraph_id, n)

    # ---- steps ----------------------------------------------------------------------------------------

    def _embed(self, text: str) -> np.ndarray:
        with self._lock:
            return self.embedder.embed([text])[0]

    def _reports_for(self, query: Query, authorities: Sequence[str], year: int | None,
                     report_ids: Sequence[str] | None) -> tuple[list[str], list[ReportChoice]]:
        """The reports a question is about, and for each named authority which of its reports and why
        (rag.search.reports): the dates the question names, else its latest inspection. A report kind
        that leaves nothing is ignored (a wrong guess must not leave the user with nothing)."""
        reports = list(self.index.reports.values())
        if report_ids:
            given = [r for r in reports if r.id in set(report_ids)]
            # In a comparison each authority gets its own of the given reports, not all of them again.
            return [r.id for r in _narrow(given, lambda r: not authorities or r.authority in authorities)], []
        chosen: list[Report] = []
        choices: list[ReportChoice] = []
        for authority in authorities or [None]:
            pool = [r for r in reports if authority is None or r.authority == authority]
            if query.report_kind:
                pool = _narrow(pool, lambda r: _kind_matches(r, query.report_kind))
            if authority is None:
                wanted_year = year or query.year
                chosen.extend(_narrow(pool, lambda r, y=wanted_year: r.year == y) if wanted_year else pool)
                continue
            cue = self._cue(query, authority, year)
            choice = choose(authority, pool, cue, graded=query.asks_judgement)
            choices.append(choice)
            picked = {r.id for r in choice.reports}
            # Council documents are not superseded by a later inspection: with no date or kind named they stay.
            chosen.extend(r for r in pool if r.id in picked or (not query.report_kind and not cue.named
                                                                and not r.report_type.startswith("ofsted")))
        return [r.id for r in chosen], choices

    @staticmethod
    def _cue(query: Query, authority: str, year: int | None) -> DateCue:
        """What the question says about the authority's report: a year paired with it in a comparison
        ('Hillingdon (2013)'), else the question's own dates; a year chosen in a filter wins."""
        if year:
            return DateCue(years=(year,))
        paired = dict(query.authority_years).get(authority)
        if paired and len(query.authority_years) > 1:
            return DateCue(years=(paired,))
        text = query.text
        if not paired:      # 'Warrington (2019), Croydon (2020) and Southwark's latest': those years are theirs
            for year in {y for a, y in query.authority_years if a != authority}:
                text = re.sub(rf"\(?\b{year}\b\)?", "", text)
        return date_cue(text)

    def _ranked(self, query: Query, vector: np.ndarray, report_ids: Sequence[str], k: int) -> list[Hit]:
        if not report_ids:
            return []
        rows = self.index.rows_for_reports(report_ids) if len(report_ids) < len(self.index.reports) else None
        dense = [row for row, _ in self.index.dense_search(vector, CANDIDATES, rows)]
        lexical = [row for row, _ in self.index.lexical_search(_lexical_query(query), CANDIDATES, rows)]
        # A keyword-short question ('compare caseloads') is BM25's strength; a paraphrased one the embedder's.
        lexical_weight = LEXICAL_WEIGHT * (2.0 if len(topic_words(query.topic or query.text)) <= 2 else 1.0)
        fused = reciprocal_rank_fusion([dense, lexical], [DENSE_WEIGHT, lexical_weight],
                                       boosted=self._judgement_rows(query, report_ids))
        dense_rank = {row: rank for rank, row in enumerate(dense, start=1)}
        lexical_rank = {row: rank for rank, row in enumerate(lexical, start=1)}
        hits = [self._hit(row, score, dense_rank.get(row), lexical_rank.get(row)) for row, score in fused]
        if self.reranker is not None:
            head = hits[:self.rerank_depth]
            passages = [passage_text(h.report, h.paragraph) for h in head]
            hits = self.reranker.rerank(query.text, head, passages) + hits[self.rerank_depth:]
        return hits[:k]

    def _judgement_rows(self, query: Query, report_ids: Sequence[str]) -> list[int]:
        """Paragraphs stating a grade the question asks about: the judgements table's citation and, for
        the 2013+ framework, the other sentences that state the same grade."""
        areas = query.judgement_areas or ((query.judgement_area,) if query.judgement_area else ())
        if not query.asks_judgement or not areas:
            return []       # 'how were the arrangements judged?' names no graded area: every grade is noise
        rows: set[int] = set()
        for rid in report_ids:
            report = self.index.reports[rid]
            rows.update(self.index.row(j.paragraph_id) for j in report.judgements if query.asks_for(j))
            for area in areas:
                rows.update(self.index.row(p.id) for p in self._statements(report, area)[:2])
        return sorted(rows)

    def _statements(self, report: Report, area: str) -> list[Paragraph]:
        key = (report.id, area)
        if key not in self._statement_cache:
            self._statement_cache[key] = statement_paragraphs(report.paragraphs, area) \
                if report.report_type.startswith("ofsted") else []
        return self._statement_cache[key]

    def _compare(self, query: Query, vector: np.ndarray, authorities: Sequence[str], k: int,
                 year: int | None, report_ids: Sequence[str] | None) -> SearchResult:
        """Each authority is searched on its own, then the lists are interleaved, so one authority's
        paragraphs cannot crowd out another's."""
        per = max(3, -(-k // len(authorities)))
        by_authority: dict[str, tuple[Hit, ...]] = {}
        searched: list[str] = []
        choices: list[ReportChoice] = []
        for authority in authorities:
            reports, chosen = self._reports_for(query, [authority], year, report_ids)
            searched.extend(reports)
            choices.extend(chosen)
            pool = self._ranked(query, vector, reports, max(per, COMPARE_POOL))
            by_authority[authority] = tuple(self._by_best_sentence(query, pool)[:per])
        merged: list[Hit] = []
        for rank in range(per):
            for authority in authorities:
                group = by_authority[authority]
                if rank < len(group):
                    merged.append(group[rank])
        return SearchResult(query, tuple(merged[:max(k, len(authorities))]), by_authority, tuple(searched),
                            tuple(choices))

    def _by_best_sentence(self, query: Query, hits: Sequence[Hit]) -> list[Hit]:
        """An authority's candidates in a comparison, re-ordered by their fused rank together with how much
        of the question's topic their best sentence covers (rare words weigh more): the one sentence that
        answers ('Caseloads are manageable, with ... an average of 25 and 15 cases') often sits in a long
        paragraph that the whole-paragraph rankings place below shorter, vaguer ones."""
        core = topic_words(query.topic or query.text)
        if not core or len(hits) < 2:
            return list(hits)
        weights = self.index.word_weights
        total = fsum(weights.get(w, UNSEEN_WORD_WEIGHT) for w in core)
        # The topic's words and those of the glossary's other names for it, expanded once: expanding every
        # candidate sentence instead would cost more than the search itself.
        wanted = core | expanded_words(query.topic or query.text)

        def coverage(hit: Hit) -> float:
            return max((fsum(weights.get(w, UNSEEN_WORD_WEIGHT) for w in wanted & content_words(sentence)) / total
                        for sentence in split_sentences(hit.paragraph.text)), default=0.0)

        by_coverage = sorted(range(len(hits)), key=lambda i: (-coverage(hits[i]), i))
        fused = reciprocal_rank_fusion([list(range(len(hits))), by_coverage], [1.0, SENTENCE_WEIGHT])
        return [hits[i] for i, _ in fused]

    def _hit(self, row: int, score: float, dense_rank: int | None, lexical_rank: int | None) -> Hit:
        paragraph = self.index.paragraphs[row]
        return Hit(paragraph, self.index.report_of(paragraph), score, dense_rank, lexical_rank)


def _lexical_query(query: Query) -> str:
    """BM25 gets the question without the authority names and years it was already filtered by: in an
    authority's own report its name is on every page and would only add noise."""
    if not query.authorities or not query.topic.strip():
        return query.search_text
    return " ".join((query.topic, *expand(query.topic)))


def _narrow(pool: list[Report], keep) -> list[Report]:
    narrowed = [r for r in pool if keep(r)]
    return narrowed or pool


def _kind_matches(report: Report, kind: str) -> bool:
    if kind == "inspection":
        return report.report_type.startswith("ofsted")
    if kind in ("overview", "self-assessment", "annual-report"):
        return report.report_type == "council_overview"
    return True
