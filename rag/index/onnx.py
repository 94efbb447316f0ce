"""The embedding model run by ONNX Runtime: the same vectors as PyTorch, without importing torch (a
question is embedded in milliseconds by a process that started in one or two seconds).

The export is made once per model into cache_dir/onnx/<name>/ from the sentence-transformers model
(tokenizer, transformer, pooling and normalisation together), with torch.onnx; `rag setup` makes it,
else the first query does. Written to a temporary folder and renamed, so a crash never leaves half
an export.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.errors import ModelUnavailable

EXPORT_VERSION = 1


def export_folder(cache_dir: Path, name: str) -> Path:
    return Path(cache_dir) / "onnx" / name.replace("/", "--")


def ensure_export(source: Path, cache_dir: Path, name: str) -> Path:
    """The folder holding model.onnx, tokenizer.json and config.json for the model at `source`."""
    target = export_folder(cache_dir, name)
    config = target / "config.json"
    if (target / "model.onnx").is_file() and config.is_file():
        try:
            if json.loads(config.read_text())["export_version"] == EXPORT_VERSION:
                return target
        except (OSError, ValueError, KeyError):
            pass
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        _export(source, staging)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    except Exception as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelUnavailable(f"Cannot export the embedding model {name!r} for ONNX Runtime "
                               f"({type(error).__name__}: {error}); set RAG_EMBEDDING_BACKEND=torch.") from error
    return target


def _export(source: Path, folder: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(source), device="cpu").eval()
    sample = model.tokenize(["An example sentence to trace the model with.", "Another, longer one: " * 4])
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Pooled(torch.nn.Module):     # the whole pipeline: transformer, pooling, normalisation
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(dict(zip(names, inputs)))["sentence_embedding"]

    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    with torch.no_grad():
        torch.onnx.export(Pooled(), tuple(sample[n] for n in names), str(folder / "model.onnx"),
                          input_names=names, output_names=["embedding"],
                          dynamic_axes={**axes, "embedding": {0: "batch"}}, opset_version=17, dynamo=False)
    model.tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
    dimension = (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()
    (folder / "config.json").write_text(json.dumps({
        "export_version": EXPORT_VERSION, "inputs": names, "dimension": int(dimension),
        "max_seq_length": int(model.max_seq_length), "pad_id": int(model.tokenizer.pad_token_id or 0),
        "pad_token": model.tokenizer.pad_token or "[PAD]", "source": str(source)}, indent=1))


class OnnxEmbedder:
    """An exported sentence-transformers model under ONNX Runtime on CPU."""

    backend = "onnx"

    def __init__(self, name: str, folder: Path, batch_size: int = 16) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.name = name
        self.batch_size = batch_size
        config = json.loads((folder / "config.json").read_text())
        self.dimension = int(config["dimension"])
        self._inputs = config["inputs"]
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=int(config["max_seq_length"]))
        self._tokenizer.enable_padding(pad_id=int(config["pad_id"]), pad_token=config["pad_token"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options,
                                                     providers=["CPUExecutionProvider"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        out = []
        for start in range(0, len(texts), self.batch_size):
            encodings = self._tokenizer.encode_batch(list(texts[start:start + self.batch_size]))
            arrays = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings],
                      "token_type_ids": [e.type_ids for e in encodings]}
            feeds = {n: np.asarray(arrays[n], dtype=np.int64) for n in self._inputs}
            out.append(self._session.run(None, feeds)[0])
        vectors = np.concatenate(out).astype(np.float32, copy=False)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors)

    def __repr__(self) -> str:
        return f"OnnxEmbedder({self.name!r}, dimension={self.dimension})"
