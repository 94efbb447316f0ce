"""The on-disk index: dense vectors (FAISS), BM25 (bm25s) and the parsed reports, written atomically.

Layout of `index/` (the live index is found through one pointer file, CURRENT):

    index/CURRENT              one line: the name of the live version folder, e.g. "v-20250101T120000Z-1a2b3c4d"
    index/v-<utc>-<random>/    a complete, immutable index version:
        manifest.json          format, embedder name/dimension, pipeline version, FAISS type, content hashes
        reports.json           every Report/Paragraph/Judgement field; paragraph order = row order
        vectors.npy            float32 (rows, dimension), L2-normalised: reused by the next ingest
        faiss.index            IndexFlatIP, or IndexIVFFlat above rag.ann.EXACT_LIMIT vectors
        bm25/                  bm25s's own save format
    index/.staging-<random>/   a version being written; never read, removed by the next writer
    index/.lock                held (flock) by the one writer

A writer builds a staging folder, fsyncs it, renames it to v-..., then replaces CURRENT (write a temp
file, fsync, os.replace). A crash or Ctrl-C at any moment leaves CURRENT naming a complete version.
The version that was live before stays on disk until the next write, so a reader that read CURRENT
just before the swap still finds its files.

What BM25 indexes and how it tokenizes is rag.lexical's, the FAISS index rag.ann's, the JSON of the
reports rag.serialise's.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from rag import ann
from rag.ann import FaissPlan, ann_search, build_faiss_index
from rag.embedding import Embedder
from rag.errors import ConfigError, IndexMismatch, IndexMissing, NotFound
from rag.lexical import TOKENIZER, lexical_text, tokenize
from rag.records import Paragraph, Report
from rag.serialise import report_from_dict, report_to_dict

# Re-exported for older imports (`from rag.store import light_stem`, bench/ann.py's store.build_faiss_index).
from rag.ann import new_faiss_index, plan_faiss_index, subset_nprobe, train_faiss_index  # noqa: F401
from rag.lexical import light_stem  # noqa: F401
from rag.serialise import paragraph_from_dict, paragraph_to_dict  # noqa: F401

FORMAT_VERSION = 1
POINTER = "CURRENT"
STAGING_PREFIX = ".staging-"
VERSION_PREFIX = "v-"
EXACT_SUBSET_LIMIT = 32_768   # a restricted search over at most this many rows is an exact numpy dot
EMBED_BATCH = 64              # paragraphs per embed() call when the embedder has no batch_size

Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------- what is embedded

def passage_text(report: Report, paragraph: Paragraph) -> str:
    """The embedded text: report label and heading path, then the paragraph (with a bullet's lead-in).

    The context line lets a paragraph that never names its authority or topic match a query that does.
    """
    context = " · ".join(x for x in (report.label, paragraph.section) if x)
    body = " ".join(x for x in (paragraph.lead_in, paragraph.text) if x)
    return f"{context}\n{body}"



# ---------------------------------------------------------------- files, fsync, the pointer

def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):   # files before the folders holding them
        _fsync_path(path)
    _fsync_path(folder)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def live_version(index_dir: Path) -> str | None:
    """The name of the live version folder, or None when there is no index (lets a server spot a new one)."""
    try:
        name = (Path(index_dir) / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def _point_to(index_dir: Path, version: str) -> None:
    temporary = index_dir / f"{POINTER}.{secrets.token_hex(4)}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, index_dir / POINTER)   # atomic: readers see the old name or the new one
    _fsync_path(index_dir)


@contextlib.contextmanager
def _writer_lock(index_dir: Path) -> Iterator[None]:
    with open(index_dir / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)   # a second `rag ingest` waits instead of racing
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_stale(index_dir: Path, keep: set[str]) -> None:
    for path in index_dir.iterdir():
        if path.is_dir() and path.name.startswith((STAGING_PREFIX, VERSION_PREFIX)) and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f"{POINTER}.") and path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)


# ---------------------------------------------------------------- reading and checking a version

def _damaged(folder: Path, what: str) -> IndexMismatch:
    return IndexMismatch(f"The index in {folder} is damaged ({what}): re-run `rag ingest`.")


def _live_folder(index_dir: Path) -> Path:
    version = live_version(index_dir)
    if version is None:
        raise IndexMissing(f"No index in {index_dir}: run `rag ingest` first.")
    folder = Path(index_dir) / version
    if not folder.is_dir():
        raise _damaged(Path(index_dir), f"{POINTER} names {version!r}, which does not exist")
    return folder


def _read_json(folder: Path, name: str) -> Any:
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise _damaged(folder, f"{name}: {error}") from error


def _check_manifest(folder: Path, manifest: Any, embedder_name: str | None, dimension: int | None,
                    pipeline_version: str | None) -> None:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("paragraphs"), dict):
        raise _damaged(folder, "manifest.json is not an index manifest")
    rerun = "re-run `rag ingest` to rebuild it"
    checks = [("index format", manifest.get("format_version"), FORMAT_VERSION, ""),
              ("tokenizer", manifest.get("tokenizer"), TOKENIZER, ""),
              ("pipeline version", manifest.get("pipeline_version"), pipeline_version, ""),
              ("embedding model", manifest.get("embedder"), embedder_name,
               f" (or set RAG_EMBEDDING_MODEL={manifest.get('embedder')})"),
              ("embedding dimension", manifest.get("dimension"), dimension, "")]
    for what, built, wanted, alternative in checks:
        if wanted is not None and built != wanted:
            raise IndexMismatch(f"The index in {folder.parent} was built with {what} {built!r}, but this run "
                                f"uses {wanted!r}: {rerun}{alternative}.")


def _reusable_vectors(index_dir: Path, embedder: Embedder, pipeline_version: str) -> dict[str, np.ndarray]:
    """content hash -> stored vector, from the live index if it used the same embedder; else nothing to reuse.

    The pipeline version is not checked: a content hash is of the exact text embedded by the named model,
    so a vector whose hash matches is right whatever chunking produced the text."""
    try:
        folder = _live_folder(index_dir)
        manifest = _read_json(folder, "manifest.json")
        _check_manifest(folder, manifest, embedder.name, embedder.dimension, None)
        reports = _read_json(folder, "reports.json")["reports"]
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    except (IndexMissing, IndexMismatch, OSError, ValueError, KeyError, TypeError):
        return {}
    hashes = [manifest["paragraphs"].get(p["id"]) for r in reports for p in r["paragraphs"]]
    if len(hashes) != len(vectors):
        return {}
    return {h: vectors[row] for row, h in enumerate(hashes) if h}


# ---------------------------------------------------------------- writing

@dataclass(frozen=True)
class IndexStats:
    reports: int
    paragraphs: int
    embedded: int      # vectors computed in this run
    reused: int        # vectors copied from the previous index (content unchanged)
    removed: int       # paragraphs of the previous index that are gone
    seconds: float


def content_hash(embedder_name: str, text: str) -> str:
    return hashlib.sha256(f"{embedder_name}\n{text}".encode()).hexdigest()


def _embed_missing(texts: list[str], embedder: Embedder, progress: Progress | None) -> np.ndarray:
    """Embed in batches (for progress), longest texts first so each batch pads to similar lengths."""
    batch = int(getattr(embedder, "batch_size", 0) or EMBED_BATCH)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    for start in range(0, len(texts), batch):
        chosen = order[start:start + batch]
        vectors = np.asarray(embedder.embed([texts[i] for i in chosen]), dtype=np.float32)
        if vectors.shape != (len(chosen), embedder.dimension):
            raise ValueError(f"Embedder {embedder.name} returned shape {vectors.shape} for "
                             f"{len(chosen)} texts of dimension {embedder.dimension}.")
        out[chosen] = vectors
        if progress:
            progress("embed", start + len(chosen), len(texts))
    return out


def _check_unique(reports: Sequence[Report]) -> None:
    seen_reports: set[str] = set()
    seen_paragraphs: set[str] = set()
    for report in reports:
        if report.id in seen_reports:
            raise ValueError(f"Two reports share the id {report.id!r}; report ids must be unique.")
        seen_reports.add(report.id)
        for paragraph in report.paragraphs:
            if paragraph.id in seen_paragraphs:
                raise ValueError(f"Two paragraphs share the id {paragraph.id!r} (report {report.id}); "
                                 f"paragraph ids must be unique.")
            seen_paragraphs.add(paragraph.id)


def write_index(index_dir: Path, reports: Sequence[Report], embedder: Embedder, *, pipeline_version: str,
                progress: Progress | None = None) -> IndexStats:
    """Write a new index version for `reports`, reusing the vectors of unchanged paragraphs, and make it live.

    progress(stage, done, total) is called with stage "embed" after each batch, then "build" and "save".
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    _check_unique(reports)
    pairs = [(r, p) for r in reports for p in r.paragraphs]
    if not pairs:
        raise ConfigError("Nothing to index: none of the reports has a paragraph. Check RAG_CORPUS.")
    index_dir.mkdir(parents=True, exist_ok=True)
    with _writer_lock(index_dir):
        previous = live_version(index_dir)
        _remove_stale(index_dir, keep={previous} if previous else set())   # leftovers of crashed runs
        old_vectors = _reusable_vectors(index_dir, embedder, pipeline_version)
        old_ids = _previous_ids(index_dir)

        texts = [passage_text(r, p) for r, p in pairs]
        hashes = [content_hash(embedder.name, text) for text in texts]
        missing = [i for i, h in enumerate(hashes) if h not in old_vectors]
        vectors = np.zeros((len(pairs), embedder.dimension), dtype=np.float32)
        for i, h in enumerate(hashes):
            if h in old_vectors:
                vectors[i] = old_vectors[h]
        vectors[missing] = _embed_missing([texts[i] for i in missing], embedder, progress)
        # Guard against an embedder that forgets to normalise: inner product must be cosine.
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

        staging = index_dir / f"{STAGING_PREFIX}{secrets.token_hex(4)}"
        version = f"{VERSION_PREFIX}{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            _write_version(staging, reports, pairs, hashes, vectors, embedder, pipeline_version, progress)
            _fsync_tree(staging)
            os.rename(staging, index_dir / version)
            _fsync_path(index_dir)
            _point_to(index_dir, version)
        except BaseException:   # includes KeyboardInterrupt: the live index is untouched, drop the half-build
            shutil.rmtree(staging, ignore_errors=True)
            if live_version(index_dir) != version:
                shutil.rmtree(index_dir / version, ignore_errors=True)
            raise
        _remove_stale(index_dir, keep={version, previous} if previous else {version})
    new_ids = {p.id for _, p in pairs}
    return IndexStats(reports=len(reports), paragraphs=len(pairs), embedded=len(missing),
                      reused=len(pairs) - len(missing), removed=len(old_ids - new_ids),
                      seconds=time.perf_counter() - started)


def _previous_ids(index_dir: Path) -> set[str]:
    try:
        manifest = _read_json(_live_folder(index_dir), "manifest.json")
        return set(manifest["paragraphs"])
    except (IndexMissing, IndexMismatch, KeyError, TypeError):
        return set()


def _write_version(folder: Path, reports: Sequence[Report], pairs: list[tuple[Report, Paragraph]],
                   hashes: list[str], vectors: np.ndarray, embedder: Embedder, pipeline_version: str,
                   progress: Progress | None) -> None:
    if progress:
        progress("build", 0, 2)
    retriever = bm25s.BM25()
    retriever.index([tokenize(lexical_text(r, p)) for r, p in pairs], show_progress=False)
    if progress:
        progress("build", 1, 2)
    dense, plan = build_faiss_index(vectors)
    if progress:
        progress("build", 2, 2)
        progress("save", 0, 1)
    _write_json(folder / "reports.json", {"format_version": FORMAT_VERSION,
                                          "reports": [report_to_dict(r) for r in reports]})
    np.save(folder / "vectors.npy", vectors)
    faiss.write_index(dense, str(folder / "faiss.index"))
    retriever.save(str(folder / "bm25"), show_progress=False)
    manifest = {
        "format_version": FORMAT_VERSION,
        "embedder": embedder.name,
        "dimension": embedder.dimension,
        "normalised": True,
        "metric": "inner_product",
        "pipeline_version": pipeline_version,
        "tokenizer": TOKENIZER,
        "faiss": dataclasses.asdict(plan),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "corpus_hash": hashlib.sha256("\n".join(sorted(r.sha256 for r in reports)).encode()).hexdigest(),
        "counts": {"reports": len(reports), "paragraphs": len(pairs),
                   "judgements": sum(len(r.judgements) for r in reports)},
        "paragraphs": {p.id: h for (_, p), h in zip(pairs, hashes)},
    }
    _write_json(folder / "manifest.json", manifest)   # last: a folder with a manifest is complete
    if progress:
        progress("save", 1, 1)


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
        (e.g. `rag reports`, which needs no model). Raises IndexMissing or IndexMismatch, never half-loads."""
        index_dir = Path(index_dir)
        folder = _live_folder(index_dir)
        manifest = _read_json(folder, "manifest.json")
        _check_manifest(folder, manifest, embedder_name, dimension, pipeline_version)
        data = _read_json(folder, "reports.json")
        try:
            reports = [report_from_dict(r) for r in data["reports"]]
            count = manifest["counts"]["paragraphs"]
            # Small indexes live in memory (fast numpy subsets); large ones are mapped from disk.
            vectors = np.load(folder / "vectors.npy", mmap_mode="r" if count > ann.EXACT_LIMIT else None)
            dense = faiss.read_index(str(folder / "faiss.index"))
            lexical = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
            raise _damaged(folder, f"{type(error).__name__}: {error}") from error
        sizes = {"manifest": count, "reports.json": sum(len(r.paragraphs) for r in reports),
                 "vectors.npy": len(vectors), "faiss.index": dense.ntotal,
                 "bm25": lexical.scores["num_docs"]}
        if len(set(sizes.values())) != 1:
            raise _damaged(folder, f"row counts differ: {sizes}")
        return cls(folder, manifest, reports, vectors, dense, lexical)

    @property
    def embedder_name(self) -> str:
        return self.manifest["embedder"]

    def paragraph(self, paragraph_id: str) -> Paragraph:
        row = self._row_of.get(paragraph_id)
        if row is None:
            raise NotFound(f"No paragraph {paragraph_id!r} in the index; paragraph ids are shown in search results.")
        return self.paragraphs[row]

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
