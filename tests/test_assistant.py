"""The Python API, and the real local language model end to end (CI runs this)."""
import time

import pytest

from rag.assistant import Assistant


def test_the_engine_in_use_is_reported(default_settings):
    bot = Assistant(default_settings, engine="extractive")
    assert bot.engine == "extractive" and "extractive" in bot.engine_note


def test_an_empty_question_is_a_clear_error(assistant):
    from rag.errors import RagError
    with pytest.raises(RagError, match="empty"):
        assistant.ask("   ")


def test_reload_picks_up_the_index_and_keeps_answering(default_settings):
    bot = Assistant(default_settings, engine="extractive")
    before = bot.ask("What is the children in care council called in Wandsworth?")
    bot.reload()
    after = bot.ask("What is the children in care council called in Wandsworth?")
    assert before.text == after.text


@pytest.mark.slow
def test_the_packaged_local_model_answers_with_verified_citations(default_settings):
    from rag.llm import engine_status
    engine, note = engine_status(default_settings.replace(llm="auto"))
    if engine != "local":
        pytest.skip(note)
    bot = Assistant(default_settings, engine="local")
    started = time.perf_counter()
    events = list(bot.stream("What is the children in care council in Wandsworth called, and how did Ofsted view it?"))
    elapsed = time.perf_counter() - started
    kinds = [e.kind for e in events]
    answer = events[-1].answer
    assert kinds[0] == "plan" and "token" in kinds and answer.engine == "local"
    assert all(c.quote in c.paragraph.text for c in answer.citations)
    assert answer.abstained or (answer.verified_claims >= 1 and "CLICK" in answer.text)
    print(f"local answer in {elapsed:.1f} s: {answer.text}")
