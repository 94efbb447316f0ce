"""Hybrid retrieval: understand the question, restrict to the reports it is about, fuse dense and BM25
rankings, optionally rerank, and for comparisons gather evidence for every authority separately."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rag.judgements import statement_paragraphs
from rag.query import Query, parse_query
from rag.records import Hit, Paragraph, Report

RRF_K = 60            # reciprocal rank fusion constant (Cormack et al. 2009)
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
CANDIDATES = 60       # taken from each ranking before fusion
JUDGEMENT_BONUS = 1.0 / (RRF_K + 1) * 2   # a paragraph stating the asked-for grade outranks any fused score


@dataclass(frozen=True)
class SearchResult:
    query: Query
    hits: tuple[Hit, ...]
    by_authority: dict[str, tuple[Hit, ...]] = field(default_factory=dict)   # comparisons: each authority's own
    reports: tuple[str, ...] = ()              # the report ids searched


class Reranker:
    """A sentence-transformers CrossEncoder that rescores (question, passage) pairs."""

    def __init__(self, model: str) -> None:
        from sentence_transformers import CrossEncoder

        from rag.errors import ModelUnavailable
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
        from dataclasses import replace
        return [replace(hits[i], rerank_score=float(scores[i]), score=float(scores[i])) for i in order]


class Searcher:
    """Loaded once per process (index, embedder, reranker) and shared by CLI, chain and UI."""

    def __init__(self, index, embedder, *, reranker: Reranker | None = None, rerank_depth: int = 30) -> None:
        from rag.store import passage_text

        self.index = index
        self.embedder = embedder
        self.reranker = reranker
        self.rerank_depth = rerank_depth
        self._passage_text = passage_text
        self._lock = threading.Lock()   # the embedder is not guaranteed thread-safe
        self._statement_cache: dict[tuple[str, str], list[Paragraph]] = {}
        self._idf: dict[str, float] | None = None
        self.authorities = tuple(sorted({r.authority for r in index.reports.values() if r.authority}))

    # ---- public ---------------------------------------------------------------------------------------

    def search(self, question: str, k: int = 10, *, authorities: Sequence[str] | None = None,
               year: int | None = None, report_ids: Sequence[str] | None = None) -> SearchResult:
        query = parse_query(question, self.authorities)
        wanted = tuple(authorities) if authorities else query.authorities
        if query.unknown_authorities and not wanted:
            return SearchResult(query, ())        # only authorities the corpus does not cover
        vector = self._embed(query.search_text)
        if query.is_comparison and len(wanted) >= 2:
            return self._compare(query, vector, wanted, k, year, report_ids)
        reports = self._reports_for(query, wanted, year, report_ids)
        hits = self._ranked(query, vector, reports, k)
        return SearchResult(query, tuple(hits), {}, tuple(reports))

    @property
    def idf(self) -> dict[str, float]:
        """Word IDFs over the indexed paragraphs (computed once), for scoring sentences."""
        if self._idf is None:
            from rag.extractive import idf_weights
            self._idf = idf_weights([p.text for p in self.index.paragraphs])
        return self._idf

    def neighbours(self, paragraph_id: str, n: int = 2) -> list[Paragraph]:
        return self.index.neighbours(paragraph_id, n)

    # ---- steps ----------------------------------------------------------------------------------------

    def _embed(self, text: str) -> np.ndarray:
        with self._lock:
            return self.embedder.embed([text])[0]

    def _reports_for(self, query: Query, authorities: Sequence[str], year: int | None,
                     report_ids: Sequence[str] | None) -> list[str]:
        """The reports a question is about: its authorities, narrowed by year and report kind when that
        still leaves a report (a wrong guess must not leave the user with nothing)."""
        reports = list(self.index.reports.values())
        if report_ids:
            return [r.id for r in reports if r.id in set(report_ids)]
        chosen: list[Report] = []
        for authority in authorities or [None]:
            pool = [r for r in reports if authority is None or r.authority == authority]
            wanted_year = year or (query.year_for(authority) if authority else query.year)
            pool = _narrow(pool, lambda r, y=wanted_year: r.year == y) if wanted_year else pool
            if query.report_kind:
                pool = _narrow(pool, lambda r: _kind_matches(r, query.report_kind))
            chosen.extend(pool)
        return [r.id for r in chosen]

    def _ranked(self, query: Query, vector: np.ndarray, report_ids: Sequence[str], k: int) -> list[Hit]:
        if not report_ids:
            return []
        rows = self.index.rows_for_reports(report_ids) if len(report_ids) < len(self.index.reports) else None
        dense = self.index.dense_search(vector, CANDIDATES, rows)
        lexical = self.index.lexical_search(_lexical_query(query), CANDIDATES, rows)
        fused: dict[int, float] = {}
        dense_rank = {row: rank for rank, (row, _) in enumerate(dense, start=1)}
        lexical_rank = {row: rank for rank, (row, _) in enumerate(lexical, start=1)}
        for row, rank in dense_rank.items():
            fused[row] = fused.get(row, 0.0) + DENSE_WEIGHT / (RRF_K + rank)
        # A keyword-short question ('compare caseloads') is BM25's strength; a paraphrased one the embedder's.
        lexical_weight = LEXICAL_WEIGHT * (2.0 if len(self._topic_words(query)) <= 2 else 1.0)
        for row, rank in lexical_rank.items():
            fused[row] = fused.get(row, 0.0) + lexical_weight / (RRF_K + rank)
        for row in self._judgement_rows(query, report_ids):
            fused[row] = fused.get(row, 0.0) + JUDGEMENT_BONUS
        order = sorted(fused, key=lambda r: (-fused[r], r))
        hits = [self._hit(row, fused[row], dense_rank.get(row), lexical_rank.get(row)) for row in order]
        if self.reranker is not None:
            head = hits[:self.rerank_depth]
            passages = [self._passage_text(h.report, h.paragraph) for h in head]
            hits = self.reranker.rerank(query.text, head, passages) + hits[self.rerank_depth:]
        return hits[:k]

    @staticmethod
    def _topic_words(query: Query) -> set[str]:
        from rag.extractive import topic_words
        return topic_words(query.topic or query.text)

    def _judgement_rows(self, query: Query, report_ids: Sequence[str]) -> list[int]:
        """Paragraphs stating a grade the question asks about: the judgements table's citation and, for
        the 2013+ framework, the other sentences that state the same grade."""
        if not query.asks_judgement:
            return []
        areas = set(query.judgement_areas or ((query.judgement_area,) if query.judgement_area else ()))
        rows: set[int] = set()
        for rid in report_ids:
            report = self.index.reports[rid]
            for j in report.judgements:
                if (not areas or j.area in areas) and (not query.judgement_scope or not j.service
                                                       or j.service == query.judgement_scope):
                    rows.add(self.index.row(j.paragraph_id))
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
        for authority in authorities:
            reports = self._reports_for(query, [authority], year, report_ids)
            searched.extend(reports)
            by_authority[authority] = tuple(self._ranked(query, vector, reports, per))
        merged: list[Hit] = []
        for rank in range(per):
            for authority in authorities:
                group = by_authority[authority]
                if rank < len(group):
                    merged.append(group[rank])
        return SearchResult(query, tuple(merged[:max(k, len(authorities))]), by_authority, tuple(searched))

    def _hit(self, row: int, score: float, dense_rank: int | None, lexical_rank: int | None) -> Hit:
        paragraph = self.index.paragraphs[row]
        return Hit(paragraph, self.index.report_of(paragraph), score, dense_rank, lexical_rank)


def _lexical_query(query: Query) -> str:
    """BM25 gets the question without the authority names and years it was already filtered by: in an
    authority's own report its name is on every page and would only add noise."""
    if not query.authorities or not query.topic.strip():
        return query.search_text
    from rag.query import expand
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
