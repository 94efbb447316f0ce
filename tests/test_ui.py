"""The Gradio page is built (not served) over a tiny index: its public API is exactly /ask, /chat and
/compare, the filters come from the corpus, and the endpoints call the WebApp handlers."""
from __future__ import annotations

import shutil

import gradio as gr
import pytest

from rag.assistant import Assistant
from rag.index.builder import ingest
from rag.index.embedding import HashingEmbedder
from rag.settings import Settings
from rag.web.handlers import WebApp
from rag.web.page import build_ui
from tests.conftest import CORPUS, SEEDS

QUESTION = "How many children in Wandsworth were the subject of a child protection plan?"


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> WebApp:
    root = tmp_path_factory.mktemp("ui")
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS["wandsworth-2015"], corpus)
    ingest(corpus, index, HashingEmbedder(64))
    settings = Settings.from_env({}, corpus=corpus, index=index, embedding_model="hashing-64", llm="extractive")
    return WebApp(settings, Assistant(settings, engine="extractive"), export_dir=root / "exports")


@pytest.fixture(scope="module")
def demo(web) -> gr.Blocks:
    return build_ui(web)


def _endpoint(demo: gr.Blocks, name: str):
    (fn,) = [f for f in demo.fns.values() if f.api_name == name]
    return fn


def _component(demo: gr.Blocks, elem_id: str) -> dict:
    (props,) = [c["props"] for c in demo.get_config_file()["components"] if c["props"].get("elem_id") == elem_id]
    return props


def test_build_ui_returns_blocks_whose_api_is_ask_chat_and_compare(demo):
    assert isinstance(demo, gr.Blocks)
    named = demo.get_api_info()["named_endpoints"]
    assert set(named) == {"/ask", "/chat", "/compare"}          # uploads, exports and clicks stay private
    public = {d["api_name"] for d in demo.get_config_file()["dependencies"] if d["api_visibility"] == "public"}
    assert public == {"ask", "chat", "compare"}
    assert [p["parameter_name"] for p in named["/ask"]["parameters"]] == ["question", "authorities", "year"]
    assert "rag ask --json" in named["/ask"]["description"]


def test_chat_is_wired_to_the_send_button_and_the_enter_key(demo):
    (chat,) = [d for d in demo.get_config_file()["dependencies"] if d["api_name"] == "chat"]
    ids = {c["id"]: c["props"].get("elem_id") for c in demo.get_config_file()["components"]}
    assert {(ids[t], event) for t, event in chat["targets"]} == {("ask", "click"), ("question", "submit")}
    assert [ids[i] for i in chat["inputs"]][0] == "question"
    assert [ids[i] for i in chat["outputs"]][:4] == ["question", "chatbot", "sources", "status"]


def test_the_page_shows_the_engine_and_filters_from_the_corpus(demo):
    choices = _component(demo, "filter-authorities")["choices"]
    assert [c[0] for c in choices] == ["Wandsworth"]
    assert [c[1] for c in _component(demo, "filter-report")["choices"]] == ["", "wandsworth-2015"]
    assert [c[1] for c in _component(demo, "filter-year")["choices"]] == ["", "2015"]
    assert "<b>extractive</b>" in _component(demo, "engine")["value"]
    assert "grade grade-" in _component(demo, "judgements-grid")["value"]


def test_ask_endpoint_answers_as_json(demo):
    data = _endpoint(demo, "ask").fn(QUESTION, ["Wandsworth"], None)
    assert data["question"] == QUESTION and data["engine"] == "extractive"
    assert {"answer", "citations", "claims", "hits"} <= set(data)
    assert not data["abstained"] and "201 children" in data["answer"]
    assert data["citations"] and all(c["authority"] == "Wandsworth" for c in data["citations"])


def test_ask_endpoint_turns_a_rag_error_into_a_gradio_error(demo):
    with pytest.raises(gr.Error, match="question"):
        _endpoint(demo, "ask").fn("   ")


def test_chat_endpoint_empties_the_box_and_streams_to_an_answer(demo):
    steps = list(_endpoint(demo, "chat").fn(QUESTION, (), [], "", ""))
    assert len(steps) >= 2 and all(step[0] == "" for step in steps)
    box, messages, sources, status, turns = steps[-1]
    assert len(turns) == 1 and turns[0].question == QUESTION
    assert messages[0]["role"] == "user" and messages[-1]["role"] == "assistant"
    answer = turns[0].answer
    assert answer.citations                                           # a card per citation, the first one here:
    assert 'id="source-1-1"' in sources and f'data-paragraph="{answer.citations[0].paragraph.id}"' in sources


def test_compare_endpoint_asks_for_two_authorities(demo):
    (step,) = list(_endpoint(demo, "compare").fn(["Wandsworth"], "adoption"))
    table, sources, status, answer = step
    assert "two or more" in status and answer is None

def test_launch_binds_loopback_with_auth_and_a_queue_for_twenty_users():
    from rag.ingest.upload import MEGABYTE
    from rag.settings import Settings
    from rag.web.page import launch

    class FakeDemo:
        def queue(self, **options):
            self.queued = options

        def launch(self, **options):
            self.launched = options

    demo = FakeDemo()
    launch(demo, Settings.from_env({}, username="ann", password="secret"))
    assert demo.launched["server_name"] == "127.0.0.1" and demo.launched["server_port"] == 7860
    assert demo.launched["auth"] == ("ann", "secret") and demo.launched["max_file_size"] == 25 * MEGABYTE
    assert demo.queued["max_size"] >= 20 and demo.queued["default_concurrency_limit"] >= 1
    launch(demo, Settings.from_env({"RAG_HOST": "0.0.0.0", "RAG_PORT": "9000"}))
    assert demo.launched["auth"] is None and demo.launched["server_name"] == "0.0.0.0"
    assert demo.launched["server_port"] == 9000


def test_an_upload_draws_one_progress_bar_on_its_result_line(demo):
    config = demo.get_config_file()
    ids = {c["id"]: c["props"].get("elem_id") for c in config["components"]}
    (upload,) = [d for d in config["dependencies"]
                 if any(ids.get(t[0]) == "upload-button" for t in d["targets"])]
    assert len(upload["outputs"]) > 1                  # the result, the filters, the catalog, the file box
    assert [ids[i] for i in upload["show_progress_on"]] == ["upload-result"]
