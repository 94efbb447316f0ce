"""Shared fixtures. Tests run offline: models load from installed packages only."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import rag  # noqa: F401 - sets the offline environment defaults before any library reads them

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = ROOT.parent / "shared" / "eval" / "dev.jsonl"
# The five seed reports by content (their file names are opaque on purpose).
SEEDS = {
    "hillingdon-2013": "000_a3b897da13a31221.txt",
    "hillingdon-2017": "001_610c848c595f1267.txt",
    "hammersmith-and-fulham-2011": "002_4efa5b68c20bdf93.txt",
    "wandsworth-2015": "003_f87a246b47a8ad74.txt",
    "windsor-and-maidenhead-2015": "004_c00fb50408d563e2.txt",
}


NATIONAL = ROOT.parent / "shared" / "national"


def require(present: bool, what: str) -> None:
    """Skip a test whose input is not on this machine, saying what it needs. CI sets RAG_TESTS_STRICT=1
    (in .ci/run): there a missing input is a failure, so nothing is skipped silently."""
    if present:
        return
    message = f"needs {what}"
    if os.environ.get("RAG_TESTS_STRICT") == "1":
        pytest.fail(f"{message} (RAG_TESTS_STRICT=1: CI must run this test)")
    pytest.skip(message)


def model_cache() -> Path:
    """Where the packaged local model is joined: RAG_CACHE_DIR as the user (or CI) set it, else the default."""
    from rag.settings import Settings
    return Settings.from_env().cache_dir


@pytest.fixture(scope="session")
def score_py():
    """The reference scorer in ../shared/eval (beside the project, as in CI); skipped where it is absent."""
    import importlib.util
    path = GOLD.parent / "score.py"
    require(GOLD.exists() and path.exists(), f"the reference scorer and gold questions at {GOLD.parent} "
                                             "(../shared/eval beside the project)")
    spec = importlib.util.spec_from_file_location("reference_score", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def parsed_corpus():
    """The default corpus parsed once (no embedding)."""
    from rag.ingest.corpus import parse_corpus
    return parse_corpus(CORPUS)


@pytest.fixture(scope="session")
def seed_reports(parsed_corpus):
    """report id -> Report for the five seeds."""
    return {r.id: r for r in parsed_corpus.reports}


@pytest.fixture(scope="session")
def minilm_settings(tmp_path_factory):
    """An index of the default corpus built once per test session with the real MiniLM embedder
    (about 30 s on 2 cores), and settings pointing at it with the extractive engine: for the tests of
    retrieval quality and of the real local model."""
    from rag.index.builder import ingest
    from rag.index.embedding import load_embedder
    from rag.settings import Settings

    index = tmp_path_factory.mktemp("default-index")
    settings = Settings.from_env({}, corpus=CORPUS, index=index, llm="extractive", cache_dir=model_cache())
    ingest(CORPUS, index, load_embedder(settings))
    return settings


@pytest.fixture(scope="session")
def default_settings(hashing_settings):
    """Settings over the default corpus for every test that is not about embedding quality."""
    return hashing_settings


@pytest.fixture(scope="session")
def hashing_settings(tmp_path_factory):
    """An index of the default corpus built with the hashing embedder (a few seconds, no model): for tests
    about anything but embedding quality."""
    from rag.index.builder import ingest
    from rag.index.embedding import load_embedder
    from rag.settings import Settings

    index = tmp_path_factory.mktemp("hashing-index")
    settings = Settings.from_env({}, corpus=CORPUS, index=index, llm="extractive", embedding_model="hashing-256",
                                 cache_dir=model_cache())
    ingest(CORPUS, index, load_embedder(settings))
    return settings


@pytest.fixture(scope="session")
def minilm_assistant(minilm_settings):
    """An Assistant over the MiniLM index (extractive engine): for the dev-set figures."""
    from rag.assistant import Assistant
    return Assistant(minilm_settings, engine="extractive")


@pytest.fixture(scope="session")
def assistant(default_settings):
    """One Assistant over the default index (extractive engine), shared by the tests that only read."""
    from rag.assistant import Assistant
    return Assistant(default_settings, engine="extractive")


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(default_settings, assistant, tmp_path_factory):
    """The web app on a free loopback port (extractive engine, the session index), for browser and API tests."""
    from rag.web.handlers import WebApp
    from rag.web.page import build_ui, launch
    settings = default_settings.replace(port=free_port())          # host stays 127.0.0.1: loopback only
    web = WebApp(settings, assistant, export_dir=tmp_path_factory.mktemp("exports"))
    web.warm()
    demo = build_ui(web)
    _, url, _ = launch(demo, settings, block=False, quiet=True)
    assert url.startswith("http://127.0.0.1:")
    yield url
    demo.close()
