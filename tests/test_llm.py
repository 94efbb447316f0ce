"""The chat-model factory against small fake OpenAI-compatible and Ollama servers, and the local engine's
streaming, locking and error handling against a fake runtime (plus one slow test with the real model)."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from rag.answer import chat_models as llm
from rag.answer import engines
from rag.errors import EngineError
from rag.settings import Settings

PIECES = ["Hello", " from", " the fake"]
MESSAGES = [SystemMessage("Answer briefly."), HumanMessage("Say hello.")]


def streamed(model, messages) -> list[str]:
    """The model's text pieces as the product gets them: streamed, failures turned into EngineError."""
    with llm.engine_errors(model):
        return [chunk.text for chunk in model.stream(list(messages)) if chunk.text]


def invoked(model, messages) -> str:
    with llm.engine_errors(model):
        return model.invoke(list(messages)).text


# ---------------------------------------------------------------------------------------------------------
# Fake servers

class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.requests: list[tuple[str, str, dict[str, Any], dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def log_message(self, *args: Any) -> None:   # keep test output quiet
        pass

    def _record(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append((self.command, self.path, body, {k.lower(): v for k, v in self.headers.items()}))
        return body

    def _send(self, status: int, content_type: str, chunks: list[bytes]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(sum(map(len, chunks))))
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(chunk)
            self.wfile.flush()


class OpenAIHandler(_Handler):
    """/v1/chat/completions, plain JSON or SSE; model 'missing' answers 404, model 'slow' sleeps."""

    def do_POST(self) -> None:
        body = self._record()
        model = body.get("model")
        if model == "missing":
            error = {"error": {"message": "The model `missing` does not exist", "type": "not_found"}}
            return self._send(404, "application/json", [json.dumps(error).encode()])
        if model == "slow":
            time.sleep(3)
        if not body.get("stream"):
            reply = {"id": "c1", "object": "chat.completion", "created": 0, "model": model,
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(PIECES)},
                                  "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}
            return self._send(200, "application/json", [json.dumps(reply).encode()])
        events = [{"delta": {"role": "assistant", "content": p}, "finish_reason": None} for p in PIECES]
        events.append({"delta": {}, "finish_reason": "stop"})
        chunks = [b"data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": model,
                                          "choices": [{"index": 0, **e}]}).encode() + b"\n\n" for e in events]
        self._send(200, "text/event-stream", chunks + [b"data: [DONE]\n\n"])


class OllamaHandler(_Handler):
    """/api/chat with NDJSON streaming, /api/tags and /api/show; model 'missing' answers 404."""

    def do_GET(self) -> None:
        self._record()
        self._send(200, "application/json", [json.dumps({"models": [{"name": "fake:1b", "model": "fake:1b"}]}).encode()])

    def do_POST(self) -> None:
        body = self._record()
        model = body.get("model")
        if self.path == "/api/show":
            return self._send(200, "application/json", [json.dumps({"modelfile": "", "details": {}}).encode()])
        if model == "missing":
            return self._send(404, "application/json", [json.dumps({"error": f"model '{model}' not found"}).encode()])
        head = {"model": model, "created_at": "2025-01-01T00:00:00Z"}
        done = {**head, "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                "total_duration": 10, "load_duration": 1, "prompt_eval_count": 5, "prompt_eval_duration": 2,
                "eval_count": 3, "eval_duration": 3}
        if not body.get("stream", True):
            reply = {**done, "message": {"role": "assistant", "content": "".join(PIECES)}}
            return self._send(200, "application/json", [json.dumps(reply).encode()])
        lines = [{**head, "message": {"role": "assistant", "content": p}, "done": False} for p in PIECES] + [done]
        self._send(200, "application/x-ndjson", [json.dumps(line).encode() + b"\n" for line in lines])


def _serve(handler: type[BaseHTTPRequestHandler]):
    server = FakeServer(handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


@pytest.fixture
def openai_server():
    server = _serve(OpenAIHandler)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def ollama_server():
    server = _serve(OllamaHandler)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead_url() -> str:
    """A 127.0.0.1 address where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------------------------------------------------
# OpenAI-compatible

def openai_settings(url: str, **changes: Any) -> Settings:
    return Settings(llm="openai", openai_base_url=url + "/v1", openai_model="fake-model",
                    llm_temperature=0.3, llm_max_tokens=50, llm_timeout=5.0).replace(**changes)


def test_openai_invoke_returns_the_reply_and_sends_our_settings(openai_server):
    model = llm.openai_chat_model(openai_settings(openai_server.url))
    assert invoked(model, MESSAGES) == "Hello from the fake"
    method, path, body, headers = openai_server.requests[-1]
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert body["model"] == "fake-model" and body["temperature"] == 0.3 and not body.get("stream")
    assert body.get("max_completion_tokens", body.get("max_tokens")) == 50
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert headers["authorization"] == f"Bearer {llm.OPENAI_PLACEHOLDER_KEY}"   # empty key -> placeholder


def test_openai_stream_yields_the_pieces_as_written(openai_server):
    model = llm.openai_chat_model(openai_settings(openai_server.url, openai_api_key="sk-test"))
    assert streamed(model, MESSAGES) == PIECES
    _, _, body, headers = openai_server.requests[-1]
    assert body["stream"] is True and body["model"] == "fake-model"
    assert headers["authorization"] == "Bearer sk-test"


def test_openai_dead_server_is_an_engine_error_naming_url_and_setting(dead_url):
    model = llm.openai_chat_model(openai_settings(dead_url))
    with pytest.raises(EngineError) as raised:
        invoked(model, MESSAGES)
    assert dead_url in str(raised.value) and "RAG_OPENAI_BASE_URL" in str(raised.value)


def test_openai_unknown_model_names_the_model_setting(openai_server):
    model = llm.openai_chat_model(openai_settings(openai_server.url, openai_model="missing"))
    with pytest.raises(EngineError, match="RAG_OPENAI_MODEL") as raised:
        streamed(model, MESSAGES)
    assert "404" in str(raised.value)


def test_openai_timeout_says_which_setting_to_raise(openai_server):
    model = llm.openai_chat_model(openai_settings(openai_server.url, openai_model="slow", llm_timeout=0.3))
    with pytest.raises(EngineError, match="RAG_LLM_TIMEOUT"):
        invoked(model, MESSAGES)


# ---------------------------------------------------------------------------------------------------------
# Ollama

def ollama_settings(url: str, **changes: Any) -> Settings:
    return Settings(llm="ollama", ollama_base_url=url, ollama_model="fake:1b", llm_temperature=0.2,
                    llm_max_tokens=40, llm_context=2048, llm_timeout=5.0).replace(**changes)


def test_ollama_invoke_and_stream(ollama_server):
    model = llm.ollama_chat_model(ollama_settings(ollama_server.url))
    assert invoked(model, MESSAGES) == "Hello from the fake"
    assert streamed(model, MESSAGES) == PIECES
    # langchain_ollama goes straight to /api/chat (no /api/tags or /api/show unless validating on init)
    assert {(m, p) for m, p, _, _ in ollama_server.requests} == {("POST", "/api/chat")}
    body = ollama_server.requests[-1][2]
    assert body["model"] == "fake:1b"
    assert body["options"]["temperature"] == 0.2 and body["options"]["num_predict"] == 40
    assert body["options"]["num_ctx"] == 2048
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_ollama_dead_server_is_an_engine_error_naming_url_and_setting(dead_url):
    model = llm.ollama_chat_model(ollama_settings(dead_url))
    with pytest.raises(EngineError) as raised:
        streamed(model, MESSAGES)
    assert dead_url in str(raised.value) and "RAG_OLLAMA_BASE_URL" in str(raised.value)


def test_ollama_missing_model_names_the_model_setting(ollama_server):
    model = llm.ollama_chat_model(ollama_settings(ollama_server.url, ollama_model="missing"))
    with pytest.raises(EngineError, match="RAG_OLLAMA_MODEL"):
        invoked(model, MESSAGES)



# ---------------------------------------------------------------------------------------------------------
# The local engine, on a fake runtime (the real llama.cpp is tested once, below)

def chunk(content: str | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra}


SCRIPT = [chunk(None), *(chunk(p) for p in PIECES), chunk(finish="stop"),
          {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
           "timings": {"cache_n": 4, "prompt_n": 3}}]


class FakeRuntime:
    """Stands in for xllamacpp.Server: replays a script through the callback like llama.cpp does."""

    def __init__(self, script: list[dict[str, Any]], delay: float = 0.0) -> None:
        self.script, self.delay = script, delay
        self.requests: list[dict[str, Any]] = []
        self.active = self.most_active = 0
        self.stopped_early = False

    def handle_chat_completions(self, request: dict[str, Any], callback) -> None:
        self.requests.append(request)
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            for item in self.script:
                time.sleep(self.delay)
                if callback(item):                     # True: the caller wants no more
                    self.stopped_early = True
                    return
        finally:
            self.active -= 1


def local_model(monkeypatch, runtime: FakeRuntime, **fields: Any) -> llm.LocalChatModel:
    loaded = llm._LoadedRuntime(runtime, threading.Lock(), 0.0)
    monkeypatch.setattr(llm, "_load_runtime", lambda *key: loaded)
    return llm.LocalChatModel(model_path="/models/fake.gguf", **{"temperature": 0.1, "max_tokens": 30, **fields})


def test_local_stream_yields_pieces_and_sends_our_settings(monkeypatch):
    runtime = FakeRuntime(SCRIPT)
    model = local_model(monkeypatch, runtime)
    assert streamed(model, MESSAGES) == PIECES
    request = runtime.requests[-1]
    assert request["temperature"] == 0.1 and request["max_tokens"] == 30
    assert request["stream"] is True and request["cache_prompt"] is True
    assert request["messages"] == [{"role": "system", "content": "Answer briefly."},
                                   {"role": "user", "content": "Say hello."}]


def test_local_invoke_aggregates_text_usage_and_timings(monkeypatch):
    model = local_model(monkeypatch, FakeRuntime(SCRIPT))
    reply = model.invoke(MESSAGES, max_tokens=5)             # per-call override reaches the request
    assert reply.text == "Hello from the fake"
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.response_metadata["timings"]["cache_n"] == 4
    assert reply.usage_metadata["input_tokens"] == 7 and reply.usage_metadata["output_tokens"] == 3
    assert model._runtime().server.requests[-1]["max_tokens"] == 5


def test_local_context_overflow_says_which_settings_to_change(monkeypatch):
    error = {"error": {"code": 400, "type": "exceed_context_size_error", "n_prompt_tokens": 5000, "n_ctx": 4096,
                       "message": "request exceeds the available context size"}}
    model = local_model(monkeypatch, FakeRuntime([error]))
    with pytest.raises(EngineError, match="RAG_LLM_CONTEXT"):
        invoked(model, MESSAGES)


def test_local_stream_that_ends_without_finishing_is_an_error(monkeypatch):
    model = local_model(monkeypatch, FakeRuntime([chunk("Hel")]))
    with pytest.raises(EngineError, match="stopped before finishing"):
        invoked(model, MESSAGES)


def test_local_consumer_that_stops_early_stops_generation_and_frees_the_model(monkeypatch):
    runtime = FakeRuntime(SCRIPT, delay=0.05)   # still generating when the consumer leaves (no race)
    model = local_model(monkeypatch, runtime)
    pieces = (chunk.text for chunk in model.stream(MESSAGES))    # as the chain consumes it
    assert next(pieces) == "Hello"
    pieces.close()
    assert runtime.stopped_early
    assert streamed(model, MESSAGES) == PIECES   # the lock was released


def test_local_concurrent_callers_are_serialised(monkeypatch):
    runtime = FakeRuntime(SCRIPT, delay=0.01)
    model = local_model(monkeypatch, runtime)
    answers: list[str] = []
    threads = [threading.Thread(target=lambda: answers.append(invoked(model, MESSAGES))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["Hello from the fake"] * 3
    assert runtime.most_active == 1


def test_local_timeout_is_an_engine_error(monkeypatch):
    model = local_model(monkeypatch, FakeRuntime(SCRIPT, delay=0.2), timeout=0.3)
    with pytest.raises(EngineError, match="RAG_LLM_TIMEOUT"):
        invoked(model, MESSAGES)


def test_the_runtime_is_loaded_once_per_model_and_shape(monkeypatch):
    built: list[Any] = []

    class FakeXllamacpp:
        @staticmethod
        def CommonParams():
            return SimpleNamespace(model=SimpleNamespace(path=""), cpuparams=SimpleNamespace(n_threads=0),
                                   cpuparams_batch=SimpleNamespace(n_threads=0))

        @staticmethod
        def Server(params):
            built.append(params)
            return object()

    monkeypatch.setitem(__import__("sys").modules, "xllamacpp", FakeXllamacpp)
    monkeypatch.setattr(llm, "_runtimes", {})
    first = llm._load_runtime("/m.gguf", 4096, 2)
    assert llm._load_runtime("/m.gguf", 4096, 2) is first
    assert llm._load_runtime("/m.gguf", 2048, 2) is not first
    assert len(built) == 2
    params = built[0]
    assert params.model.path == "/m.gguf" and params.n_ctx == 4096 and params.cpuparams.n_threads == 2
    assert params.n_parallel == 1 and params.cache_prompt is True and params.api_keys


def test_the_local_engine_makes_its_model_from_the_settings_without_loading(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    model = engines.get("local").make_model(Settings(llm_path=str(gguf), llm_context=1024, llm_threads=1, llm_max_tokens=9,
                                         llm_temperature=0.5, llm_timeout=7))
    assert isinstance(model, llm.LocalChatModel)
    assert (model.model_path, model.n_ctx, model.n_threads, model.max_tokens, model.temperature, model.timeout) == \
        (str(gguf), 1024, 1, 9, 0.5, 7)


@pytest.mark.slow
def test_the_real_local_model_answers(capsys):
    """Joins the packaged model on first use (about 7 s, once per cache), loads it (3-10 s) and writes a
    few tokens. Prints the measured speeds."""
    model = engines.get("local").make_model(Settings.from_env())
    load_seconds = model.load()
    started = time.perf_counter()
    reply = model.invoke([HumanMessage("What is the capital of France? Answer in one word.")], max_tokens=16)
    seconds = time.perf_counter() - started
    assert reply.text.strip()
    timings = reply.response_metadata["timings"]
    with capsys.disabled():
        print(f"\nlocal model: load {load_seconds:.1f} s, answer {seconds:.2f} s, "
              f"prompt {timings.get('prompt_per_second', 0):.0f} tok/s, "
              f"generation {timings.get('predicted_per_second', 0):.0f} tok/s: {reply.text.strip()!r}")
