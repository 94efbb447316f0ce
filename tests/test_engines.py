"""The engine registry: the product's engines, `auto`, unknown names, and an engine a user registers."""
from __future__ import annotations

import pytest

from rag.answer import engines
from rag.assistant import Assistant
from rag.errors import ConfigError
from rag.settings import Settings
from tests.fake_llm import ScriptedChatModel, scripted_engine


def test_the_product_registers_four_engines_and_auto():
    assert engines.names()[0] == "auto"
    assert {"extractive", "local", "openai", "ollama"} <= set(engines.names())
    assert not engines.get("extractive").writes and engines.get("local").writes


def test_an_unknown_engine_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match="RAG_LLM='gpt-5'") as error:
        engines.choose(Settings(llm="gpt-5"))
    assert all(name in str(error.value) for name in ("auto", "extractive", "local", "openai", "ollama"))
    with pytest.raises(ConfigError, match="RAG_LLM"):
        engines.get("Local")                      # names are exact


@pytest.mark.parametrize("runtime, packaged, expected", [
    (True, True, "local"), (True, False, "extractive"), (False, True, "extractive")])
def test_auto_picks_local_only_when_runtime_and_model_are_installed(monkeypatch, runtime, packaged, expected):
    monkeypatch.setattr(engines, "_runtime_installed", lambda: runtime)
    monkeypatch.setattr(engines.local_model, "packaged_model_available", lambda: packaged)
    engine, note = engines.choose(Settings(llm="auto"))
    assert engine.name == expected
    if expected == "extractive":
        assert "make install" in note and "extractive" in note


def test_auto_with_a_missing_llm_path_falls_back_and_names_it(monkeypatch, tmp_path):
    monkeypatch.setattr(engines, "_runtime_installed", lambda: True)
    engine, note = engines.choose(Settings(llm="auto", llm_path=str(tmp_path / "gone.gguf")))
    assert engine.name == "extractive" and "gone.gguf" in note and "RAG_LLM_PATH" in note


def test_explicit_engines_are_kept_and_described():
    assert engines.choose(Settings(llm="extractive"))[0].name == "extractive"
    engine, note = engines.choose(Settings(llm="openai", openai_base_url="http://h:1/v1", openai_model="m"))
    assert engine.name == "openai" and "http://h:1/v1" in note
    engine, note = engines.choose(Settings(llm="ollama", ollama_model="q:1b"))
    assert engine.name == "ollama" and "q:1b" in note


def test_a_registered_engine_answers_through_the_same_checks(hashing_settings):
    name = scripted_engine(ScriptedChatModel(script=["Wandsworth was outstanding in every area [1]."]), "made-up")
    try:
        assert "made-up" in engines.names()
        bot = Assistant(hashing_settings, engine=name)
        assert bot.engine == "made-up" and "scripted model made-up" in bot.engine_note
        answer = bot.ask("How many Wandsworth care leavers was the council not in contact with?")
        assert "outstanding" not in answer.text            # not borne out by any paragraph: replaced
        assert answer.raw_text.startswith("Wandsworth was outstanding")   # what the model wrote is kept
    finally:
        engines.unregister(name)
    assert "made-up" not in engines.names()
