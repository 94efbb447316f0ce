"""The answer engines in one registry, by name (in the manner of simonw/llm's model registry): the product
registers its own (extractive, local, openai, ollama) and a user or a test registers more with
`register(Engine(...))`, e.g. a scripted model.

An engine that writes with a language model has `make_model(settings)`, returning a LangChain chat
model; the extractive engine has none (it quotes the paragraphs). `problem(settings)` says, cheaply, why an
engine cannot run here. `auto` chooses the local engine when it can run, else the extractive one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer import local_model
from rag.errors import ConfigError
from rag.settings import Settings

AUTO = "auto"
EXTRACTIVE = "extractive"
PACKAGED_MODEL_LABEL = "Qwen2.5-Coder-1.5B-Instruct (Q4_K_M)"


@dataclass(frozen=True)
class Engine:
    name: str
    description: str                                          # "the local model": used in notices
    make_model: Callable[[Settings], Any] | None = None       # a LangChain chat model; None: extractive
    problem: Callable[[Settings], str | None] = lambda settings: None
    status: Callable[[Settings], str] = lambda settings: ""   # "Answering with ...", for the CLI and the page

    @property
    def writes(self) -> bool:
        """Whether a language model writes the answer (then the checks may replace what it wrote)."""
        return self.make_model is not None


_REGISTRY: dict[str, Engine] = {}


def register(engine: Engine) -> Engine:
    if engine.name == AUTO:
        raise ValueError(f"{AUTO!r} is not an engine name: it chooses one")
    _REGISTRY[engine.name] = engine
    return engine


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def names() -> tuple[str, ...]:
    """Every choice for RAG_LLM and --engine."""
    return (AUTO, *_REGISTRY)


def get(name: str) -> Engine:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"RAG_LLM={name!r} is not an engine; choose one of {', '.join(names())}.") from None


def choose(settings: Settings, name: str | None = None) -> tuple[Engine, str]:
    """The engine that will answer (`auto` resolved) and a sentence saying which, or why not the local one."""
    name = name or settings.llm
    if name != AUTO:
        engine = get(name)
        problem = engine.problem(settings)
        if problem:
            return engine, f"{problem} Answers are extracted from the reports until this is fixed."
        return engine, engine.status(settings)
    local = get("local")
    problem = local.problem(settings)
    if problem is None:
        return local, local.status(settings)
    return get(EXTRACTIVE), f"{problem} Answering with the extractive engine."


# ---------------------------------------------------------------------------------------------- the engines
# The chat-model classes are imported when a model is made: LangChain and llama.cpp take seconds to import,
# and the CLI's quick commands (reports, judgements, show) need none of them.

def _local_model(settings: Settings) -> Any:
    from rag.answer.chat_models import LocalChatModel
    return LocalChatModel(model_path=str(local_model.resolve_model_path(settings)), n_ctx=settings.llm_context,
                          n_threads=settings.llm_threads, temperature=settings.llm_temperature,
                          max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout)


def _runtime_installed() -> bool:
    """xllamacpp imports (about 50 ms; a broken native build fails here rather than mid-answer)."""
    try:
        import xllamacpp  # noqa: F401
    except Exception:
        return False
    return True


def _local_problem(settings: Settings) -> str | None:
    """Why the local engine cannot run here, or None when it can (cheap: nothing is loaded or hashed)."""
    if not _runtime_installed():
        return "The local model runtime (xllamacpp) is not installed (run make install)."
    if settings.llm_path:
        path = Path(settings.llm_path).expanduser()
        if not path.is_file():
            return f"The model file {settings.llm_path} (RAG_LLM_PATH) does not exist."
        if not local_model.is_gguf(path):
            return f"The model file {settings.llm_path} (RAG_LLM_PATH) is not a GGUF model."
        return None
    if not local_model.packaged_model_available():
        return "The local model is not installed (run make install)."
    return None


def _openai_model(settings: Settings) -> Any:
    from rag.answer.chat_models import openai_chat_model
    return openai_chat_model(settings)


def _ollama_model(settings: Settings) -> Any:
    from rag.answer.chat_models import ollama_chat_model
    return ollama_chat_model(settings)


register(Engine(EXTRACTIVE, "extractive engine",
                status=lambda s: "Answering with the extractive engine (quoted report sentences, no language model)."))
register(Engine("local", "local model", _local_model, _local_problem,
                lambda s: f"Answering with the local model {s.llm_path or PACKAGED_MODEL_LABEL + ', packaged'}."))
register(Engine("openai", "OpenAI-compatible server", _openai_model,
                status=lambda s: f"Answering with {s.openai_model} at {s.openai_base_url}."))
register(Engine("ollama", "Ollama server", _ollama_model,
                status=lambda s: f"Answering with Ollama model {s.ollama_model} at {s.ollama_base_url}."))
