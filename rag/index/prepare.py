"""What an ingest computes per paragraph before it writes a version: the vector of each embedded text
(by content hash, so unchanged text is never embedded twice) and each report's word counts.

Vectors of the live index are reused only when its manifest, reports.json and vectors.npy verify against
their checksums and it was made by the same model (a damaged or foreign vector is never copied). The
builder (rag.index.builder) embeds each report as soon as it is read, while other processes read the
next ones; the writer then embeds whatever is still missing.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.errors import IndexMismatch, IndexMissing
from rag.index import versions
from rag.index.embedding import Embedder, passage_text
from rag.index.lexical import TOKENIZER, lexical_text
from rag.index.weights import COUNTS_VERSION, document_frequencies
from rag.progress import Progress
from rag.records import Report
from rag.text.words import tokenize

EMBED_STAGE = "embedding paragraphs"
DEFAULT_BATCH = 32          # texts per embed() call when the embedder names no batch size
# Texts wait until this many batches are queued: sorted by length together, batches pad less (small groups
# cost a third of the model's rate on national reports).
QUEUE_BATCHES = 32


def content_hash(embedder_name: str, text: str) -> str:
    return hashlib.sha256(f"{embedder_name}\n{text}".encode()).hexdigest()


def passage_hashes(report: Report, embedder_name: str) -> list[tuple[str, str]]:
    """(content hash, embedded text) of each of the report's paragraphs, in order."""
    return [(content_hash(embedder_name, text), text)
            for text in (passage_text(report, p) for p in report.paragraphs)]


def words_key(report: Report) -> str:
    """Identifies a report's word counts and BM25 tokens by what they are computed from, its paragraphs'
    headings, lead-ins and texts (a re-read report that splits the same way keeps them)."""
    digest = hashlib.sha256()
    for paragraph in report.paragraphs:
        digest.update("\x1f".join((*paragraph.headings, paragraph.lead_in, paragraph.text)).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


class Prepared:
    """Vectors by content hash and word counts by report, gathered for one index version."""

    def __init__(self, embedder: Embedder, vectors: dict[str, np.ndarray] | None = None,
                 word_counts: dict[str, dict[str, int]] | None = None, backend: str = "") -> None:
        self.embedder = embedder
        self.vectors: dict[str, np.ndarray] = vectors or {}
        self.word_counts: dict[str, dict[str, int]] = word_counts or {}
        self.tokens: dict[str, list[list[str]]] = {}   # words key -> BM25 tokens of each paragraph
        self.embedded = 0                   # texts embedded by this run
        self._keys: dict[int, str] = {}     # id(report) -> words key; the reports live as long as this
        self._passages: dict[int, list[tuple[str, str]]] = {}
        self._backend = backend             # what made the live index's vectors
        self._pending: dict[str, str] = {}  # hash -> text read but not embedded yet

    @classmethod
    def from_live(cls, index_dir: Path, embedder: Embedder, dimension: int | None) -> Prepared:
        """What the live index offers. `dimension` None: checked by the model's name only (a lazy embedder
        is not loaded to ask); the vectors' width is checked against the model when it embeds."""
        try:
            folder = versions.live_folder(Path(index_dir))
            manifest = versions.read_manifest(folder)
            versions.check_manifest(folder, manifest, embedder.name, dimension, None)
            versions.verify_files(folder, manifest, ("reports.json", "vectors.npy"))
            reports = versions.read_json(folder, "reports.json")["reports"]
            stored = np.load(folder / "vectors.npy", mmap_mode="r")
        except (IndexMissing, IndexMismatch, OSError, ValueError, KeyError, TypeError):
            return cls(embedder)
        hashes = [manifest["paragraphs"].get(p["id"]) for r in reports for p in r["paragraphs"]]
        if len(hashes) != len(stored):
            return cls(embedder)
        stored = np.asarray(stored, dtype=np.float32)
        vectors = {h: stored[row] for row, h in enumerate(hashes) if h}
        prepared = cls(embedder, vectors, _live_word_counts(folder, manifest), manifest.get("embedder_backend", ""))
        prepared.tokens = _live_tokens(folder, manifest)
        return prepared

    def backend(self, reused: int) -> str:
        """What made the vectors of a version that reuses `reused` of them: the live index's backend(s) for
        those, this run's embedder for the rest ("torch-bfloat16+onnx": a national index built in bulk, then a
        new report embedded by the query backend)."""
        parts = self._backend.split("+") if reused else []
        if self.embedded:
            parts.append(str(getattr(self.embedder, "backend", "")))
        return "+".join(dict.fromkeys(p for p in parts if p))

    def key(self, report: Report) -> str:
        """words_key(report), computed once per report object."""
        if id(report) not in self._keys:
            self._keys[id(report)] = words_key(report)
        return self._keys[id(report)]

    def passages(self, report: Report) -> list[tuple[str, str]]:
        """passage_hashes(report), computed once per report object."""
        if id(report) not in self._passages:
            self._passages[id(report)] = passage_hashes(report, self.embedder.name)
        return self._passages[id(report)]

    def add(self, report: Report) -> None:
        """Count the report's words and tokenize it for BM25 (once per distinct report text)."""
        key = self.key(report)
        if key not in self.word_counts:
            self.word_counts[key] = dict(document_frequencies(p.text for p in report.paragraphs))
        if key not in self.tokens:
            self.tokens[key] = [tokenize(lexical_text(report, p)) for p in report.paragraphs]

    def queue(self, report: Report, progress: Progress | None = None) -> None:
        """Count a report just read and queue its new texts; embed whole batches as they fill, so the
        model works while the next reports are read."""
        self.add(report)
        for digest, text in self.passages(report):
            if digest not in self.vectors:
                self._pending[digest] = text
        batch = self._batch_size()
        if len(self._pending) >= QUEUE_BATCHES * batch:
            ready = len(self._pending) - len(self._pending) % batch
            self._embed(list(self._pending.items())[:ready], progress)

    def embed_missing(self, passages: Sequence[tuple[str, str]], progress: Progress | None = None) -> None:
        """Embed every (hash, text) that has no vector yet."""
        missing = dict(self._pending)
        missing.update((h, t) for h, t in passages if h not in self.vectors)
        self._embed(list(missing.items()), progress)

    def _batch_size(self) -> int:
        return int(getattr(self.embedder, "batch_size", 0) or DEFAULT_BATCH)

    def _embed(self, items: list[tuple[str, str]], progress: Progress | None) -> None:
        """Embed in batches, longest texts first so each batch pads to similar lengths."""
        items = [(h, t) for h, t in items if h not in self.vectors]
        if not items:
            return
        dimension = self.embedder.dimension
        if self.vectors and len(next(iter(self.vectors.values()))) != dimension:
            self.vectors = {}               # reused vectors of a same-named model of another width
        items.sort(key=lambda item: -len(item[1]))
        batch = self._batch_size()
        total = self.embedded + len(items) + len(set(self._pending) - {h for h, _ in items})
        for start in range(0, len(items), batch):
            chosen = items[start:start + batch]
            vectors = np.asarray(self.embedder.embed([t for _, t in chosen]), dtype=np.float32)
            if vectors.shape != (len(chosen), dimension):
                raise ValueError(f"Embedder {self.embedder.name} returned shape {vectors.shape} for "
                                 f"{len(chosen)} texts of dimension {dimension}.")
            # Guard against an embedder that forgets to normalise: inner product must be cosine.
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            for (digest, _), vector in zip(chosen, vectors):
                self.vectors[digest] = vector
                self._pending.pop(digest, None)
            self.embedded += len(chosen)
            if progress:
                progress(EMBED_STAGE, self.embedded, max(total, self.embedded))


def _stored_per_report(folder: Path, manifest: dict, name: str, key: str, value: object) -> dict:
    """The "reports" map of a per-report file the live version stored, when it is there, verifies against
    its checksum and was made the way this run makes it (its `key` field equals `value`); else {}."""
    if name not in manifest.get("files", {}):
        return {}
    try:
        versions.verify_files(folder, manifest, (name,))
        stored = versions.read_json(folder, name)
    except (IndexMissing, IndexMismatch, OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(stored, dict) or stored.get(key) != value or not isinstance(stored.get("reports"), dict):
        return {}
    return stored["reports"]


def _live_tokens(folder: Path, manifest: dict) -> dict[str, list[list[str]]]:
    """The live version's BM25 tokens per report, when made by this tokenizer."""
    return _stored_per_report(folder, manifest, "tokens.json", "tokenizer", TOKENIZER)


def _live_word_counts(folder: Path, manifest: dict) -> dict[str, dict[str, int]]:
    """The live version's per-report word counts, when made by this counting."""
    stored = _stored_per_report(folder, manifest, "word_counts.json", "version", COUNTS_VERSION)
    return {key: Counter(value) for key, value in stored.items()}
