"""Writing an index version: embed what changed (reusing verified vectors), build BM25 and FAISS, write a
staging folder with checksums, and make it live atomically (rag.versions does the on-disk part).

What BM25 indexes is rag.index.lexical's, the FAISS index rag.index.ann's, the JSON of the reports
rag.index.serialise's.
"""
from __future__ import annotations

import dataclasses
import hashlib
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import bm25s
import faiss
import numpy as np

from rag.errors import ConfigError, IndexMismatch, IndexMissing
from rag.index import versions
from rag.index.ann import build_faiss_index
from rag.index.embedding import Embedder
from rag.index.prepare import Prepared
from rag.index.weights import COUNTS_VERSION, WEIGHTS_VERSION
from rag.index.lexical import TOKENIZER
from rag.index.serialise import report_to_dict
from rag.index.versions import FORMAT_VERSION, STAGING_PREFIX, VERSION_PREFIX
from rag.progress import Progress
from rag.records import Paragraph, Report

@dataclass(frozen=True)
class IndexStats:
    reports: int
    paragraphs: int
    embedded: int      # vectors computed in this run
    reused: int        # vectors copied from the previous index (content unchanged)
    removed: int       # paragraphs of the previous index that are gone
    seconds: float


def _previous_ids(index_dir: Path) -> set[str]:
    try:
        return set(versions.read_manifest(versions.live_folder(index_dir))["paragraphs"])
    except (IndexMissing, IndexMismatch, KeyError, TypeError):
        return set()


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


# ---------------------------------------------------------------- writing

def write_index(index_dir: Path, reports: Sequence[Report], embedder: Embedder, *, pipeline_version: str,
                progress: Progress | None = None, prepared: Prepared | None = None) -> IndexStats:
    """Write a new index version for `reports`, reusing the vectors of unchanged paragraphs, and make it live.

    `prepared`: vectors and word counts computed while the reports were read (rag.index.builder); what
    it lacks is computed here. progress(stage, done, total) follows the embedding, then "building the
    index" and "saving the index". A write that fails (disk full) raises IndexWriteError and leaves the
    previous version live.
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    _check_unique(reports)
    pairs = [(r, p) for r in reports for p in r.paragraphs]
    if not pairs:
        raise ConfigError("Nothing to index: none of the reports has a paragraph. Check RAG_CORPUS.")
    if index_dir.exists() and not index_dir.is_dir():
        raise ConfigError(f"The index path {index_dir} is a file, not a folder: set RAG_INDEX (or --index) "
                          f"to a folder.")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        (index_dir / ".lock").touch()       # a read-only folder fails here, with the message below
    except OSError as error:
        raise versions.cannot_write(index_dir, error) from error
    with versions.writer_lock(index_dir):
        previous = versions.live_version(index_dir)
        versions.remove_stale(index_dir, keep={previous} if previous else set())   # leftovers of crashed runs
        prepared = prepared or Prepared.from_live(index_dir, embedder, embedder.dimension)
        old_ids = _previous_ids(index_dir)
        passages = [hp for r in reports for hp in prepared.passages(r)]
        prepared.embed_missing(passages, progress)
        for report in reports:
            prepared.add(report)          # word counts; vectors are all there now
        hashes = [h for h, _ in passages]
        vectors = np.stack([prepared.vectors[h] for h in hashes]).astype(np.float32, copy=False)

        staging = index_dir / f"{STAGING_PREFIX}{secrets.token_hex(4)}"
        version = f"{VERSION_PREFIX}{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            _write_version(staging, reports, pairs, hashes, vectors, prepared, pipeline_version, progress)
            versions.publish(index_dir, staging, version)
        except BaseException as error:   # includes Ctrl-C: the live index is untouched, drop the half-build
            shutil.rmtree(staging, ignore_errors=True)
            if versions.live_version(index_dir) != version:
                shutil.rmtree(index_dir / version, ignore_errors=True)
            if isinstance(error, OSError):
                raise versions.cannot_write(index_dir, error, version) from error
            raise
        versions.remove_stale(index_dir, keep={version, previous} if previous else {version})
    new_ids = {p.id for _, p in pairs}
    return IndexStats(reports=len(reports), paragraphs=len(pairs), embedded=prepared.embedded,
                      reused=len(pairs) - prepared.embedded, removed=len(old_ids - new_ids),
                      seconds=time.perf_counter() - started)


def _write_version(folder: Path, reports: Sequence[Report], pairs: list[tuple[Report, Paragraph]],
                   hashes: list[str], vectors: np.ndarray, prepared: Prepared, pipeline_version: str,
                   progress: Progress | None) -> None:
    if progress:
        progress("building the index", 0, 2)
    retriever = bm25s.BM25()
    retriever.index([tokens for r in reports for tokens in prepared.tokens[prepared.key(r)]], show_progress=False)
    if progress:
        progress("building the index", 1, 2)
    dense, plan = build_faiss_index(vectors)
    if progress:
        progress("building the index", 2, 2)
        progress("saving the index", 0, 1)
    counts = {prepared.key(r): prepared.word_counts[prepared.key(r)] for r in reports}
    document_frequencies: Counter[str] = Counter()
    for report_counts in counts.values():
        document_frequencies.update(report_counts)
    # Our own files are hashed as they are written (no second read of 1.5 GB of vectors); bm25s writes
    # its own, so those are read back. Python file objects raise on a full disk (faiss to a path may not).
    files = {"reports.json": versions.write_bytes(folder / "reports.json", versions.json_bytes(
        {"format_version": FORMAT_VERSION, "reports": [report_to_dict(r) for r in reports]}))}
    with versions.RecordedFile(folder / "vectors.npy") as out:
        np.save(out, vectors)
    files["vectors.npy"] = out.record
    with versions.RecordedFile(folder / "faiss.index") as out:
        faiss.write_index(dense, faiss.PyCallbackIOWriter(out.write))
    files["faiss.index"] = out.record
    files["weights.json"] = versions.write_bytes(folder / "weights.json", versions.json_bytes(
        {"version": WEIGHTS_VERSION, "paragraphs": len(pairs), "document_frequencies": document_frequencies}))
    files["word_counts.json"] = versions.write_bytes(folder / "word_counts.json", versions.json_bytes(
        {"version": COUNTS_VERSION, "reports": counts}))
    files["tokens.json"] = versions.write_bytes(folder / "tokens.json", versions.json_bytes(
        {"tokenizer": TOKENIZER, "reports": {prepared.key(r): prepared.tokens[prepared.key(r)] for r in reports}}))
    retriever.save(str(folder / "bm25"), show_progress=False)
    files.update(versions.tree_records(folder / "bm25", folder))
    manifest = {
        "format_version": FORMAT_VERSION,
        "embedder": prepared.embedder.name,
        "embedder_backend": prepared.backend(reused=len(pairs) - prepared.embedded),
        "dimension": int(vectors.shape[1]),
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
        "files": files,
    }
    versions.write_manifest(folder, manifest)   # last: a folder with a manifest is complete
    if progress:
        progress("saving the index", 1, 1)
