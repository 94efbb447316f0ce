"""Many questions at once, and an ingest while questions are answered: every answer is the one a lone
question gets, and questions use the old index until the new one is live, then the new one."""
from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.assistant import Assistant
from rag.index.builder import ingest
from rag.index.embedding import HashingEmbedder
from rag.index.versions import live_version
from rag.settings import Settings
from tests.conftest import CORPUS, SEEDS

QUESTIONS = (
    "What grade did Wandsworth get for adoption performance?",
    "How are care leavers supported in Windsor and Maidenhead?",
    "Compare adoption in Wandsworth and Windsor and Maidenhead",
    "What did inspectors say about the LSCB in Hammersmith and Fulham?",
    "Which Hillingdon team steps in with intensive support when a family's problems escalate?",
    "How many children were subject to a child protection plan in Wandsworth?",
    "What did Ofsted say about adoption in Birmingham?",
)
USERS = 20


def _key(answer) -> tuple:
    return answer.text, answer.abstained, tuple(c.paragraph.id for c in answer.citations), answer.table


def test_twenty_questions_at_once_through_the_python_api_match_lone_answers(assistant):
    alone = {q: _key(assistant.ask(q)) for q in QUESTIONS}
    asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(USERS)]
    with ThreadPoolExecutor(USERS) as pool:
        together = list(pool.map(assistant.ask, asked))
    assert [_key(a) for a in together] == [alone[q] for q in asked]
    follow = [{"role": "user", "content": QUESTIONS[0]}, {"role": "assistant", "content": alone[QUESTIONS[0]][0]}]
    with ThreadPoolExecutor(4) as pool:        # follow-ups carry their own history: no shared state
        followed = list(pool.map(lambda _: assistant.ask("And for care leavers?", follow), range(8)))
    assert len({_key(a) for a in followed}) == 1


@pytest.mark.slow
def test_twenty_questions_at_once_through_the_web_app_match_lone_answers(app_url, assistant):
    from gradio_client import Client
    alone = {q: assistant.ask(q).to_json() for q in QUESTIONS}
    asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(USERS)]
    with ThreadPoolExecutor(USERS) as pool:
        together = list(pool.map(lambda q: Client(app_url, verbose=False).predict(q, api_name="/ask"), asked))
    for question, got in zip(asked, together):
        want = alone[question]
        assert (got["answer"], got["abstained"], got["citations"]) == \
            (want["answer"], want["abstained"], want["citations"]), question


class GatedEmbedder(HashingEmbedder):
    """Embeds only when let through, so a test can ask questions while an ingest is mid-way."""

    def __init__(self, dimension: int) -> None:
        super().__init__(dimension)
        self.embedding = threading.Event()
        self.go = threading.Event()

    def embed(self, texts):
        self.embedding.set()
        assert self.go.wait(30), "the test never let the ingest go on"
        return super().embed(texts)


def test_an_ingest_swaps_the_index_under_running_questions(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for seed in ("hammersmith-and-fulham-2011", "hillingdon-2017"):
        shutil.copy(CORPUS / SEEDS[seed], corpus / SEEDS[seed])
    ingest(corpus, index, HashingEmbedder(64))
    old_version = live_version(index)
    bot = Assistant(Settings(corpus=corpus, index=index, embedding_model="hashing-64", llm="extractive"))
    question = "How many adopter households were approved in Wandsworth?"
    assert "no report on Wandsworth" in bot.ask(question).text

    shutil.copy(CORPUS / SEEDS["wandsworth-2015"], corpus / SEEDS["wandsworth-2015"])
    gated = GatedEmbedder(64)
    writer = threading.Thread(target=ingest, args=(corpus, index, gated))
    writer.start()
    try:
        assert gated.embedding.wait(30)
        with ThreadPoolExecutor(8) as pool:       # mid-ingest: the old index answers, whole
            during = list(pool.map(bot.ask, [question] * 8 + list(QUESTIONS)))
        assert all(a.text for a in during)
        assert {h.report.id for a in during for h in a.hits} <= {"hammersmith-and-fulham-2011", "hillingdon-2017"}
        assert live_version(index) == old_version and bot.searcher.index.version == old_version
    finally:
        gated.go.set()
        writer.join(60)

    assert live_version(index) != old_version
    after = bot.ask(question)                     # the next question finds the new version by itself
    assert bot.searcher.index.version == live_version(index)
    assert not after.abstained and {c.paragraph.report for c in after.citations} == {"wandsworth-2015"}


def test_questions_running_across_the_swap_each_see_one_whole_index(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS["hillingdon-2017"], corpus / SEEDS["hillingdon-2017"])
    ingest(corpus, index, HashingEmbedder(64))
    bot = Assistant(Settings(corpus=corpus, index=index, embedding_model="hashing-64", llm="extractive"))
    errors: list[BaseException] = []
    answers = []
    stop = threading.Event()

    def keep_asking():
        while not stop.is_set():
            try:
                answers.append(bot.ask("How are children in need supported in Hillingdon?"))
            except BaseException as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)

    askers = [threading.Thread(target=keep_asking) for _ in range(4)]
    for thread in askers:
        thread.start()
    try:
        for seed in ("hammersmith-and-fulham-2011", "wandsworth-2015"):   # two swaps while asking
            shutil.copy(CORPUS / SEEDS[seed], corpus / SEEDS[seed])
            ingest(corpus, index, HashingEmbedder(64))
    finally:
        stop.set()
        for thread in askers:
            thread.join(30)
    assert not errors
    assert len(answers) > 8 and all(a.text and not a.abstained for a in answers)
    assert bot.searcher.index.version == live_version(index)


def test_a_new_version_that_cannot_load_leaves_the_old_one_answering(tmp_path, caplog):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS["hillingdon-2017"], corpus / SEEDS["hillingdon-2017"])
    ingest(corpus, index, HashingEmbedder(64))
    bot = Assistant(Settings(corpus=corpus, index=index, embedding_model="hashing-64", llm="extractive"))
    before = _key(bot.ask("How are children in need supported in Hillingdon?"))
    version = live_version(index)
    shutil.copytree(index / version, index / "v-broken")
    (index / "v-broken" / "reports.json").write_text("{", encoding="utf-8")
    (index / "CURRENT").write_text("v-broken\n", encoding="utf-8")
    assert _key(bot.ask("How are children in need supported in Hillingdon?")) == before
    assert bot.searcher.index.version == version
    assert "could not be loaded" in caplog.text


def test_ingests_started_together_wait_for_each_other_and_leave_one_whole_index(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for seed in ("hillingdon-2017", "hammersmith-and-fulham-2011", "wandsworth-2015"):
        shutil.copy(CORPUS / SEEDS[seed], corpus / SEEDS[seed])
    with ThreadPoolExecutor(3) as pool:       # three `rag ingest`s at once: the writer lock serialises them
        results = list(pool.map(lambda _: ingest(corpus, index, HashingEmbedder(64)), range(3)))
    assert all(r.stats.paragraphs == results[0].stats.paragraphs for r in results)
    assert sorted(p.name for p in index.iterdir() if p.name.startswith(".staging")) == []
    bot = Assistant(Settings(corpus=corpus, index=index, embedding_model="hashing-64", llm="extractive"))
    assert len(bot.reports()) == 3
    assert not bot.ask("How many adopter households were approved in Wandsworth?").abstained
