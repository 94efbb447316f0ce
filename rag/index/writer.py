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
from rag.index.embedding import Embedder, passage_text
from rag.index.lexical import TOKENIZER, lexical_text
from rag.index.serialise import report_to_dict
from rag.index.versions import FORMAT_VERSION, STAGING_PREFIX, VERSION_PREFIX
from rag.progress import Progress
from rag.records import Paragraph, Report
from rag.text.words import tokenize

EMBED_BATCH = 64              # paragraphs per embed() call when the embedder has no batch_size



def content_hash(embedder_name: str, text: str) -> str:
    return hashlib.sha256(f"{embedder_name}\n{text}".encode()).hexdigest()


@dataclass(frozen=True)
class IndexStats:
    reports: int
    paragraphs: int
    embedded: int      # vectors computed in this run
    reused: int        # vectors copied from the previous index (content unchanged)
    removed: int       # paragraphs of the previous index that are gone
    seconds: float


# ---------------------------------------------------------------- what the previous version offers

def _reusable_vectors(index_dir: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """content hash -> stored vector, from the live index if it used the same embedder and its manifest,
    reports.json and vectors.npy verify against their checksums; else nothing to reuse (a corrupted
    vector must not be copied into the new index).

    The pipeline version is not checked: a content hash is of the exact text embedded by the named model,
    so a vector whose hash matches is right whatever chunking produced the text."""
    try:
        folder = versions.live_folder(index_dir)
        manifest = versions.read_manifest(folder)
        versions.check_manifest(folder, manifest, embedder.name, embedder.dimension, None)
        versions.verify_files(folder, manifest, ("reports.json", "vectors.npy"))
        reports = versions.read_json(folder, "reports.json")["reports"]
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    except (IndexMissing, IndexMismatch, OSError, ValueError, KeyError, TypeError):
        return {}
    hashes = [manifest["paragraphs"].get(p["id"]) for r in reports for p in r["paragraphs"]]
    if len(hashes) != len(vectors):
        return {}
    return {h: vectors[row] for row, h in enumerate(hashes) if h}


def _previous_ids(index_dir: Path) -> set[str]:
    try:
        return set(versions.read_manifest(versions.live_folder(index_dir))["paragraphs"])
    except (IndexMissing, IndexMismatch, KeyError, TypeError):
        return set()


# ---------------------------------------------------------------- embedding

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


# ---------------------------------------------------------------- writing

def write_index(index_dir: Path, reports: Sequence[Report], embedder: Embedder, *, pipeline_version: str,
                progress: Progress | None = None) -> IndexStats:
    """Write a new index version for `reports`, reusing the vectors of unchanged paragraphs, and make it live.

    progress(stage, done, total) is called with stage "embed" after each batch, then "build" and "save".
    A write that fails (disk full) raises IndexWriteError and leaves the previous version live.
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
        old_vectors = _reusable_vectors(index_dir, embedder)
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
    return IndexStats(reports=len(reports), paragraphs=len(pairs), embedded=len(missing),
                      reused=len(pairs) - len(missing), removed=len(old_ids - new_ids),
                      seconds=time.perf_counter() - started)


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
    retriever.save(str(folder / "bm25"), show_progress=False)
    files.update(versions.tree_records(folder / "bm25", folder))
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
        "files": files,
    }
    versions.write_manifest(folder, manifest)   # last: a folder with a manifest is complete
    if progress:
        progress("save", 1, 1)
