"""Settings: RAG_* variables parsed to their types, overrides beat the environment, bad values are errors
that name the variable."""
from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.settings import Settings


def test_defaults_work_with_an_empty_environment():
    s = Settings.from_env({})
    assert s == Settings()
    assert s.llm == "auto" and s.host == "127.0.0.1" and s.port == 7860
    assert s.username == "" and s.password == ""
    assert s.prompts.is_dir() and s.prompts.parent.name == "rag"    # found from the package, not the cwd


def test_variables_are_parsed_to_their_types():
    s = Settings.from_env({"RAG_TOP_K": "7", "RAG_LLM_TEMPERATURE": "0.25", "RAG_LLM_TIMEOUT": "30",
                           "RAG_OPENAI_MODEL": "gpt-x", "RAG_LLM": "ollama", "RAG_CORPUS": "/data/reports"})
    assert s.top_k == 7 and isinstance(s.top_k, int)
    assert s.llm_temperature == 0.25 and isinstance(s.llm_temperature, float)
    assert s.llm_timeout == 30.0 and isinstance(s.llm_timeout, float)
    assert s.openai_model == "gpt-x" and s.llm == "ollama"
    assert s.corpus == Path("/data/reports") and isinstance(s.corpus, Path)


def test_paths_expand_the_home_folder():
    s = Settings.from_env({"RAG_INDEX": "~/rag-index", "RAG_CACHE_DIR": "~/cache"})
    assert s.index == Path.home() / "rag-index" and s.cache_dir == Path.home() / "cache"
    assert "~" not in str(s.index)


def test_empty_and_unrelated_variables_are_ignored():
    s = Settings.from_env({"RAG_TOP_K": "", "TOP_K": "3", "RAG_NOT_A_SETTING": "x"})
    assert s.top_k == Settings().top_k


def test_explicit_overrides_beat_the_environment_and_none_means_not_given():
    env = {"RAG_TOP_K": "7", "RAG_LLM": "ollama", "RAG_CORPUS": "/env/corpus"}
    s = Settings.from_env(env, top_k=3, llm=None, corpus=Path("/flag/corpus"))
    assert s.top_k == 3                       # the flag wins
    assert s.llm == "ollama"                  # None: the flag was not given, the variable stands
    assert s.corpus == Path("/flag/corpus")


def test_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("RAG_CONTEXT_K", "2")
    monkeypatch.setenv("RAG_PORT", "9001")
    s = Settings.from_env()
    assert s.context_k == 2 and s.port == 9001


@pytest.mark.parametrize("name, raw", [("RAG_TOP_K", "ten"), ("RAG_PORT", "80.5"),
                                       ("RAG_LLM_TEMPERATURE", "warm"), ("RAG_LLM_TIMEOUT", "2 minutes")])
def test_a_value_of_the_wrong_type_names_the_variable(name, raw):
    with pytest.raises(ConfigError, match=name) as error:
        Settings.from_env({name: raw})
    assert repr(raw) in str(error.value)


@pytest.mark.parametrize("name", ["RAG_TOP_K", "RAG_CONTEXT_K", "RAG_PORT", "RAG_CONCURRENCY", "RAG_QUEUE_SIZE",
                                  "RAG_MAX_FILE_MB", "RAG_LLM_THREADS"])
@pytest.mark.parametrize("raw", ["0", "-1"])
def test_counts_must_be_positive(name, raw):
    with pytest.raises(ConfigError, match=f"{name} must be a positive number"):
        Settings.from_env({name: raw})


def test_embedding_batch_zero_is_automatic_and_negative_is_refused():
    assert Settings.from_env({"RAG_EMBEDDING_BATCH": "0"}).embedding_batch == 0
    with pytest.raises(ConfigError, match="RAG_EMBEDDING_BATCH must be 0"):
        Settings.from_env({"RAG_EMBEDDING_BATCH": "-1"})


@pytest.mark.parametrize("env", [{"RAG_USERNAME": "ann"}, {"RAG_PASSWORD": "secret"}])
def test_username_and_password_come_together(env):
    with pytest.raises(ConfigError, match="RAG_USERNAME and RAG_PASSWORD"):
        Settings.from_env(env)


def test_username_with_password_is_accepted():
    s = Settings.from_env({"RAG_USERNAME": "ann", "RAG_PASSWORD": "secret"})
    assert (s.username, s.password) == ("ann", "secret")


def test_replace_changes_given_fields_only_and_checks_them():
    s = Settings.from_env({}, top_k=5)
    t = s.replace(top_k=8, llm="extractive", port=None)
    assert (t.top_k, t.llm, t.port) == (8, "extractive", s.port)
    assert s.top_k == 5 and s.llm == "auto"          # frozen: the original is unchanged
    with pytest.raises(ConfigError, match="RAG_TOP_K"):
        s.replace(top_k=0)
    with pytest.raises(AttributeError):
        s.top_k = 3   # type: ignore[misc]


def test_a_renamed_variable_is_an_error_not_ignored():
    with pytest.raises(ConfigError, match="RAG_MAX_UPLOAD_MB is now RAG_MAX_FILE_MB"):
        Settings.from_env({"RAG_MAX_UPLOAD_MB": "10"})
    assert Settings.from_env({"RAG_MAX_FILE_MB": "10"}).max_file_bytes == 10 * 1024 * 1024
