"""The LangChain chat models behind the engines: the local llama.cpp model (in-process, streaming),
OpenAI-compatible servers and Ollama; and the translation of their failures (a server that is down, a
timeout, an HTTP error, a model that stops mid-answer) into rag.errors.EngineError with a message that
names the URL and the setting to change (`engine_errors`)."""
from __future__ import annotations

import contextlib
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from rag.errors import EngineError, ModelUnavailable, RagError
from rag.settings import Settings

OPENAI_PLACEHOLDER_KEY = "not-needed"   # local OpenAI-compatible servers accept any key, the client needs one
OPENAI_MAX_RETRIES = 1                  # one retry for a transient error; a dead server should fail fast
LOCAL_PROMPT_CACHE_MIB = 512            # host RAM for llama.cpp's saved prompt states (~28 KB per token here)


# ---------------------------------------------------------------------------------------------------------
# The local engine: xllamacpp runs llama.cpp's server in-process; we call its handlers directly.

@dataclass(frozen=True)
class _LoadedRuntime:
    server: Any                 # xllamacpp.Server
    lock: threading.Lock        # one generation at a time: the single slot keeps the prompt cache warm
    load_seconds: float


_runtimes: dict[tuple[str, int, int], _LoadedRuntime] = {}
_runtimes_lock = threading.Lock()


def _load_runtime(model_path: str, n_ctx: int, n_threads: int) -> _LoadedRuntime:
    """The runtime for this model and shape, loaded once per process and shared by every LocalChatModel."""
    key = (model_path, n_ctx, n_threads)
    with _runtimes_lock:
        if key in _runtimes:
            return _runtimes[key]
        try:
            import xllamacpp
        except ImportError as e:
            raise ModelUnavailable("The local engine needs the xllamacpp package; run `make install`, "
                                   "or choose another engine with RAG_LLM.") from e
        params = xllamacpp.CommonParams()
        params.model.path = model_path
        params.n_ctx = n_ctx
        params.cpuparams.n_threads = n_threads
        params.cpuparams_batch.n_threads = n_threads
        params.n_parallel = 1             # calls are serialised by the lock, so the whole context is one slot
        params.cache_prompt = True        # reuse the longest common prefix (the fixed system prompt)
        params.cache_ram_mib = LOCAL_PROMPT_CACHE_MIB
        params.verbosity = 0              # failures come back to us as error replies; keep stderr clean
        # The runtime also listens on a random 127.0.0.1 port; a random key keeps other local users out.
        params.api_keys = [secrets.token_urlsafe(24)]
        started = time.perf_counter()
        try:
            server = xllamacpp.Server(params)
        except Exception as e:
            raise ModelUnavailable(f"Cannot load the language model {model_path} ({e}). Check that RAG_LLM_PATH "
                                   "names a GGUF file, or lower RAG_LLM_CONTEXT if memory is short.") from e
        runtime = _LoadedRuntime(server, threading.Lock(), time.perf_counter() - started)
        _runtimes[key] = runtime
        return runtime


_END = object()


class LocalChatModel(BaseChatModel):
    """A GGUF model run in-process by llama.cpp (xllamacpp), with token streaming."""

    model_path: str
    n_ctx: int = 4096
    n_threads: int = 2
    temperature: float = 0.0
    max_tokens: int = 320
    timeout: float = 120.0
    cache_prompt: bool = True

    @property
    def _llm_type(self) -> str:
        return "xllamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "temperature": self.temperature,
                "max_tokens": self.max_tokens}

    def load(self) -> float:
        """Load the runtime now (otherwise the first question does); returns the seconds loading took."""
        return self._runtime().load_seconds

    def _runtime(self) -> _LoadedRuntime:
        return _load_runtime(self.model_path, self.n_ctx, self.n_threads)

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        request: dict[str, Any] = {
            "messages": convert_to_openai_messages(messages),
            "stream": True,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "cache_prompt": self.cache_prompt,
            "stream_options": {"include_usage": True},   # token counts and timings in the last chunk
        }
        if stop:
            request["stop"] = stop
        request.update(kwargs)      # per-call overrides, OpenAI-style (e.g. max_tokens=64)
        request["stream"] = True    # _generate aggregates the stream, so timeouts work the same way
        return request

    def _chunks(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Run one request on a worker thread and yield its OpenAI-style stream chunks as they come.

        The runtime call blocks until generation ends, calling back per chunk; a queue turns that into a
        generator. Returning True from the callback tells llama.cpp to stop (consumer left, or timeout).
        """
        runtime = self._runtime()
        if not runtime.lock.acquire(timeout=self.timeout):
            raise EngineError(f"The local model stayed busy with other questions for {self.timeout:.0f} s; "
                              "try again, or raise RAG_LLM_TIMEOUT.")
        chunks: queue.Queue[Any] = queue.Queue()
        cancel = threading.Event()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            chunks.put(chunk)
            return cancel.is_set()

        def work() -> None:
            try:
                runtime.server.handle_chat_completions(request, on_chunk)
            except Exception as e:   # handed to the consumer thread, which raises it as EngineError
                chunks.put(e)
            finally:
                chunks.put(_END)

        worker = threading.Thread(target=work, name="rag-local-llm", daemon=True)
        deadline = time.monotonic() + self.timeout
        try:
            worker.start()
            while True:
                try:
                    item = chunks.get(timeout=max(deadline - time.monotonic(), 0.001))
                except queue.Empty:
                    raise EngineError(f"The local model did not finish within {self.timeout:.0f} s; raise "
                                      "RAG_LLM_TIMEOUT or lower RAG_LLM_MAX_TOKENS.") from None
                if item is _END:
                    return
                if isinstance(item, Exception):
                    raise EngineError(f"The local model failed: {item}") from item
                yield item
        finally:
            cancel.set()
            worker.join(timeout=self.timeout)   # wait for llama.cpp to stop before the next call starts
            runtime.lock.release()

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        finish_reason, timings, usage = None, {}, None
        for chunk in self._chunks(self._request(messages, stop, **kwargs)):
            if "error" in chunk:
                raise EngineError(_local_error_message(chunk["error"]))
            timings = chunk.get("timings") or timings
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or ():
                finish_reason = choice.get("finish_reason") or finish_reason
                text = (choice.get("delta") or {}).get("content")
                if text:
                    generation = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=generation)
                    yield generation
        if finish_reason is None:
            raise EngineError("The local model stopped before finishing its answer; try again, or lower "
                              "RAG_CONTEXT_K if the prompt is long.")
        # One closing chunk carries what the runtime measured (speeds, cached prompt tokens) and the counts.
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="",
            response_metadata={"finish_reason": finish_reason, "model_name": Path(self.model_path).name,
                               "timings": timings},
            usage_metadata=usage and {"input_tokens": usage.get("prompt_tokens", 0),
                                      "output_tokens": usage.get("completion_tokens", 0),
                                      "total_tokens": usage.get("total_tokens", 0)}))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))


def _local_error_message(error: Any) -> str:
    if isinstance(error, dict) and error.get("type") == "exceed_context_size_error":
        return (f"The prompt ({error.get('n_prompt_tokens')} tokens) does not fit the local model's context "
                f"({error.get('n_ctx')} tokens); raise RAG_LLM_CONTEXT or lower RAG_CONTEXT_K.")
    message = error.get("message", error) if isinstance(error, dict) else error
    return f"The local model refused the request: {message}"


# ---------------------------------------------------------------------------------------------------------
# Remote engines' chat models (rag.answer.engines makes them; the local one is LocalChatModel above).

def openai_chat_model(settings: Settings) -> BaseChatModel:
    from langchain_openai import (
        ChatOpenAI,  # its client stack takes a second to import: only when used
    )
    # `streaming` stays unset on purpose: invoke() then gets one plain reply and stream() streams tokens;
    # streaming=False would make langchain-core 1.x refuse to stream even in stream().
    return ChatOpenAI(base_url=settings.openai_base_url, api_key=settings.openai_api_key or OPENAI_PLACEHOLDER_KEY,
                      model=settings.openai_model, temperature=settings.llm_temperature,
                      max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout,
                      max_retries=OPENAI_MAX_RETRIES)


def ollama_chat_model(settings: Settings) -> BaseChatModel:
    from langchain_ollama import ChatOllama  # as above
    return ChatOllama(base_url=settings.ollama_base_url, model=settings.ollama_model,
                      temperature=settings.llm_temperature, num_predict=settings.llm_max_tokens,
                      num_ctx=settings.llm_context,   # Ollama's default window would cut our prompts
                      client_kwargs={"timeout": settings.llm_timeout})


# ---------------------------------------------------------------------------------------------------------
# Calling a model: engine failures become EngineError with a message a user can act on.

def _endpoint(model: BaseChatModel) -> tuple[str, str, str]:
    """(what, where, the setting that says where) for error messages."""
    name = type(model).__name__
    if name == "ChatOpenAI":
        return "the OpenAI-compatible server", str(getattr(model, "openai_api_base", "") or ""), "RAG_OPENAI_BASE_URL"
    if name == "ChatOllama":
        return "Ollama", str(getattr(model, "base_url", "") or ""), "RAG_OLLAMA_BASE_URL"
    return "the language model", str(getattr(model, "model_path", "")), "RAG_LLM"


def translate_engine_error(error: Exception, model: BaseChatModel) -> RagError:
    """An engine failure as an EngineError naming the URL and the setting to change (RagErrors pass)."""
    if isinstance(error, RagError):
        return error
    what, url, setting = _endpoint(model)
    status = getattr(error, "status_code", None)
    kind = type(error).__name__
    if kind in ("APITimeoutError", "TimeoutException", "ReadTimeout", "ConnectTimeout", "TimeoutError") or \
            "timeout" in kind.lower() or "timed out" in str(error).lower():
        message = (f"{what} at {url} did not answer in time; check that it is running and not overloaded, "
                   "or raise RAG_LLM_TIMEOUT.")
    elif "connect" in kind.lower():     # APIConnectionError, OpenAIConnectionError, httpx.ConnectError...
        message = f"Cannot connect to {what} at {url}; start it, or set {setting} to where it runs."
    elif status in (401, 403):
        message = f"{what} at {url} refused the API key (HTTP {status}); set RAG_OPENAI_API_KEY."
    elif status == 404:
        model_setting = "RAG_OLLAMA_MODEL" if setting == "RAG_OLLAMA_BASE_URL" else "RAG_OPENAI_MODEL"
        message = (f"{what} at {url} answered HTTP 404 ({_short(error)}); check {model_setting} names a model "
                   f"it serves, and {setting} its address.")
    elif isinstance(status, int):
        message = f"{what} at {url} answered HTTP {status}: {_short(error)}. Check the server, or {setting}."
    elif kind in ("JSONDecodeError", "ValidationError", "APIResponseValidationError") or \
            "no generation chunks" in str(error).lower():
        message = (f"{what} at {url} sent a reply that is not a chat completion ({kind}: {_short(error)}); "
                   f"check that {setting} names the server's address.")
    else:
        message = f"{what} at {url} failed ({kind}: {_short(error)}). Check the server, or {setting}."
    return EngineError(message)


def _short(error: Exception, limit: int = 300) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[:limit] + "..."


def empty_reply_error(model: BaseChatModel) -> EngineError:
    """A model that answered without a single word (e.g. a server whose replies carry no choices)."""
    what, url, setting = _endpoint(model)
    return EngineError(f"{what} at {url} sent an empty reply; check the server, or {setting}.")


def _raised_by(model: BaseChatModel, error: BaseException) -> bool:
    """Whether the error came out of the model's own call. In a chain the model's `transform` pulls its
    input through the steps before it, so a bug there passes through that frame too: only the model's
    other methods (stream, _stream, invoke, _generate...) count."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        tb = error.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_locals.get("self") is model and frame.f_code.co_name not in ("transform", "atransform"):
                return True
            tb = tb.tb_next
        error = error.__cause__ or error.__context__
    return False


@contextlib.contextmanager
def engine_errors(model: BaseChatModel) -> Iterator[None]:
    """Run a block that calls the model (e.g. a chain's stream loop); the model's failures become
    EngineError. Other exceptions (a bug in our own steps) propagate as they are, not as an engine fault."""
    try:
        yield
    except RagError:
        raise
    except Exception as e:
        if not _raised_by(model, e):
            raise
        raise translate_engine_error(e, model) from e
