"""The loaded index: one version's reports and paragraphs, dense (FAISS) and lexical (BM25) search.

A load refuses, with a message saying to re-run `rag ingest`, a version built by another model, pipeline
or format, and one whose files do not match the checksums in its manifest. Writing a version is
rag.index.writer's, the layout on disk and the pointer rag.index.versions'.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from rag.errors import NotFound
from rag.index import ann, versions
from rag.index.ann import FaissPlan, ann_search
from rag.index.serialise import report_from_dict
from rag.index.weights import WEIGHTS_VERSION, weights_from_counts, word_weights
from rag.records import Paragraph, Report
from rag.text.words import tokenize

EXACT_SUBSET_LIMIT = 32_768   # a restricted search over at most this many rows is an exact numpy dot


# ---------------------------------------------------------------- searching

def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first (ties: lower position first, so results are stable)."""
    if k < len(scores):
        candidates = np.argpartition(-scores, k - 1)[:k]
    else:
        candidates = np.arange(len(scores))
    return candidates[np.lexsort((candidates, -scores[candidates]))]


def _as_rows(rows: np.ndarray | Sequence[int] | None) -> np.ndarray | None:
    """Sorted unique int64 rows (what rows_for_reports returns is already so: checked, not re-sorted)."""
    if rows is None:
        return None
    rows = np.asarray(rows, dtype=np.int64)
    return rows if np.all(rows[1:] > rows[:-1]) else np.unique(rows)


def _checked_version(index_dir: Path, embedder_name: str | None, dimension: int | None,
                     pipeline_version: str | None) -> tuple[Path, dict[str, Any], list[Report]]:
    """(folder, manifest, reports) of the live version, after checking how it was built and every file's
    size and sha256. Raises IndexMissing or IndexMismatch."""
    folder = versions.live_folder(index_dir)
    manifest = versions.read_manifest(folder)
    versions.check_manifest(folder, manifest, embedder_name, dimension, pipeline_version)
    versions.verify_files(folder, manifest)
    data = versions.read_json(folder, "reports.json")
    try:
        return folder, manifest, [report_from_dict(r) for r in data["reports"]]
    except (ValueError, KeyError, TypeError) as error:
        raise versions.damaged(folder, f"reports.json: {type(error).__name__}: {error}") from error


class Index:
    """One loaded index version: reports, paragraphs in row order, dense and lexical search. Read-only."""

    def __init__(self, folder: Path, manifest: dict[str, Any], reports: list[Report], vectors: np.ndarray,
                 dense: faiss.Index, lexical: bm25s.BM25) -> None:
        self.folder = folder
        self.version = folder.name
        self.manifest = manifest
        self.plan = FaissPlan(**manifest["faiss"])
        self.reports: dict[str, Report] = {r.id: r for r in reports}
        self.paragraphs: list[Paragraph] = [p for r in reports for p in r.paragraphs]
        self.vectors = vectors
        self._dense = dense
        self._lexical = lexical
        self._row_of = {p.id: row for row, p in enumerate(self.paragraphs)}
        self._report_span: dict[str, tuple[int, int]] = {}
        start = 0
        for report in reports:   # a report's paragraphs are contiguous rows
            self._report_span[report.id] = (start, start + len(report.paragraphs))
            start += len(report.paragraphs)

    @classmethod
    def load(cls, index_dir: Path, *, embedder_name: str | None, dimension: int | None = None,
             pipeline_version: str | None) -> Index:
        """Load the live version. embedder_name/dimension/pipeline_version None = do not check that value
        (e.g. `rag reports`, which needs no model). Raises IndexMissing or IndexMismatch (built differently,
        or damaged: a file's size or sha256 differs from the manifest's), never half-loads."""
        folder, manifest, reports = _checked_version(Path(index_dir), embedder_name, dimension, pipeline_version)
        try:
            count = manifest["counts"]["paragraphs"]
            # Small indexes live in memory (fast numpy subsets); large ones are mapped from disk.
            vectors = np.load(folder / "vectors.npy", mmap_mode="r" if count > ann.EXACT_LIMIT else None)
            dense = faiss.read_index(str(folder / "faiss.index"))
            lexical = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
            raise versions.damaged(folder, f"{type(error).__name__}: {error}") from error
        sizes = {"manifest": count, "reports.json": sum(len(r.paragraphs) for r in reports),
                 "vectors.npy": len(vectors), "faiss.index": dense.ntotal,
                 "bm25": lexical.scores["num_docs"]}
        if len(set(sizes.values())) != 1:
            raise versions.damaged(folder, f"row counts differ: {sizes}")
        return cls(folder, manifest, reports, vectors, dense, lexical)

    @classmethod
    def load_reports(cls, index_dir: Path, *, embedder_name: str | None, dimension: int | None = None,
                     pipeline_version: str | None) -> list[Report]:
        """The live version's reports, checked as load() checks them (every file's checksum included, so
        a damaged version still counts as none) but without reading vectors, FAISS or BM25 into memory:
        what an ingest needs to tell whether anything changed."""
        return _checked_version(Path(index_dir), embedder_name, dimension, pipeline_version)[2]

    @functools.cached_property
    def word_weights(self) -> dict[str, float]:
        """rag.index.weights of this index's paragraphs: stored by the ingest that wrote it (an index
        written before they were stored has them counted now, once)."""
        if "weights.json" in self.manifest["files"]:
            stored = versions.read_json(self.folder, "weights.json")
            if stored.get("version") == WEIGHTS_VERSION:
                return weights_from_counts(stored["document_frequencies"], stored["paragraphs"])
        return word_weights(p.text for p in self.paragraphs)

    @property
    def embedder_name(self) -> str:
        return self.manifest["embedder"]

    def paragraph(self, paragraph_id: str) -> Paragraph:
        row = self._row_of.get(paragraph_id)
        if row is None:
            raise NotFound(f"No paragraph {paragraph_id!r} in the index; paragraph ids are shown in search results.")
        return self.paragraphs[row]

    def full_id(self, paragraph_id: str) -> str:
        """'report:id' as given, or the one paragraph whose id ends ':<short id>' (as tables print them)."""
        if paragraph_id in self._row_of or ":" in paragraph_id:
            return paragraph_id
        found = [pid for pid in self._row_of if pid.endswith(f":{paragraph_id}")]
        if len(found) > 1:
            shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
            raise NotFound(f"{len(found)} reports have a paragraph {paragraph_id!r} ({shown}); "
                           "give it as <report>:<id>.")
        return found[0] if found else paragraph_id

    def row(self, paragraph_id: str) -> int:
        self.paragraph(paragraph_id)
        return self._row_of[paragraph_id]

    def report_of(self, paragraph: Paragraph) -> Report:
        report = self.reports.get(paragraph.report)
        if report is None:
            raise NotFound(f"No report {paragraph.report!r} in the index.")
        return report

    def rows_for_reports(self, report_ids: Sequence[str]) -> np.ndarray:
        """The rows (sorted) of the given reports' paragraphs, to pass as `rows` to a search."""
        if isinstance(report_ids, str):
            report_ids = [report_ids]
        unknown = [r for r in report_ids if r not in self._report_span]
        if unknown:
            raise NotFound(f"No report {', '.join(map(repr, unknown))} in the index; "
                           f"known: {', '.join(self._report_span)}.")
        spans = sorted({self._report_span[r] for r in report_ids})
        parts = [np.arange(a, b, dtype=np.int64) for a, b in spans]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def neighbours(self, paragraph_id: str, n: int) -> list[Paragraph]:
        """The paragraph with up to n paragraphs before and n after it in the same report, in reading order."""
        row = self.row(paragraph_id)
        start, stop = self._report_span[self.paragraphs[row].report]
        n = max(n, 0)
        return self.paragraphs[max(start, row - n): min(stop, row + n + 1)]

    def dense_search(self, query_vector: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, inner product) of the k nearest paragraphs, best first, among `rows` if given.

        The restriction applies before the top k (an exact dot over the subset, or a FAISS ID selector),
        so a small report is never crowded out by a large one.
        """
        query = np.ascontiguousarray(np.asarray(query_vector, dtype=np.float32).reshape(-1))
        if query.shape[0] != self.vectors.shape[1]:
            raise ValueError(f"Query vector has dimension {query.shape[0]}, the index {self.vectors.shape[1]}.")
        rows = _as_rows(rows)
        if k <= 0 or (rows is not None and len(rows) == 0):
            return []
        if rows is None and self.plan.type == "IndexFlatIP":
            # Exact over every row: one BLAS product is several times quicker than FAISS's flat scan here.
            scores = np.asarray(self.vectors @ query, dtype=np.float32)
            return [(int(i), float(scores[i])) for i in _top_k(scores, k)]
        if rows is not None and (self.plan.type == "IndexFlatIP" or len(rows) <= EXACT_SUBSET_LIMIT):
            scores = np.asarray(self.vectors[rows] @ query, dtype=np.float32)
            return [(int(rows[i]), float(scores[i])) for i in _top_k(scores, k)]
        return ann_search(self._dense, self.plan, query, k, rows)

    def lexical_search(self, query: str, k: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, BM25 score) of up to k paragraphs sharing a term with the query, best first, among `rows`."""
        token_ids = self._lexical.get_tokens_ids(tokenize(query))
        if k <= 0 or not token_ids:
            return []
        scores = self._lexical.get_scores_from_ids(token_ids)
        rows = _as_rows(rows)
        if rows is not None:
            scores = scores[rows]
        top = _top_k(scores, k)
        top = top[scores[top] > 0]   # a paragraph without any query term is no lexical match
        return [(int(rows[i]) if rows is not None else int(i), float(scores[i])) for i in top]
