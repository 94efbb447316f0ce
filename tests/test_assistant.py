"""The Python API, and the real local language model end to end (CI runs this)."""
import shutil
import time

import pytest

from rag.assistant import Assistant
from rag.index.versions import live_version
from rag.settings import Settings
from tests.conftest import CORPUS, SEEDS, require


def test_the_engine_in_use_is_reported(default_settings):
    bot = Assistant(default_settings, engine="extractive")
    assert bot.engine == "extractive" and "extractive" in bot.engine_note


def test_an_empty_question_is_a_clear_error(assistant):
    from rag.errors import RagError
    with pytest.raises(RagError, match="empty"):
        assistant.ask("   ")


def test_an_ingest_elsewhere_is_picked_up_by_the_next_question(tmp_path):
    """Another process (here another Assistant) ingests a report: the running one answers from it next."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS["wandsworth-2015"], corpus)
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", llm="extractive",
                                 embedding_model="hashing-256")
    Assistant(settings).ingest()
    bot = Assistant(settings)
    question = "Which team in Hillingdon steps in when a family's problems escalate?"
    assert "Hillingdon" not in bot.ask(question).authorities               # not in the corpus yet
    first = bot.searcher.index.version
    shutil.copy(CORPUS / SEEDS["hillingdon-2013"], corpus)
    Assistant(settings).ingest()
    answer = bot.ask(question)
    assert bot.searcher.index.version == live_version(settings.index) != first
    assert answer.authorities == ("Hillingdon",) and "Intensive Team" in answer.text


@pytest.mark.slow
def test_the_packaged_local_model_answers_with_verified_citations(default_settings):
    from rag.answer.engines import choose
    engine, note = choose(default_settings.replace(llm="auto"))
    require(engine.name == "local", f"the packaged local model ({note})")
    bot = Assistant(default_settings, engine="local")
    started = time.perf_counter()
    events = list(bot.stream("What is the children in care council in Wandsworth called, and how did Ofsted view it?"))
    elapsed = time.perf_counter() - started
    kinds = [e.kind for e in events]
    answer = events[-1].answer
    assert kinds[0] == "plan" and "token" in kinds and answer.engine.startswith("local")
    assert all(c.quote in c.paragraph.text for c in answer.citations)
    # The report names the council (CLICK): an answer that abstains, or verifies nothing, fails.
    assert not answer.abstained and answer.verified_claims >= 1 and "CLICK" in answer.text
    print(f"local answer in {elapsed:.1f} s: {answer.text}")
