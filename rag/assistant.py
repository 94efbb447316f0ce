"""The one object the CLI, the web app and Python users share: it loads the index and models once per
process, ingests, answers, searches and shows paragraphs.

    from rag import Assistant
    bot = Assistant()                       # settings from RAG_* variables
    answer = bot.ask("What grade did Wandsworth get for adoption?")
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from typing import Any

from rag.answer import engines
from rag.answer.citations import Checked
from rag.answer.extractive import on_topic
from rag.answer.finish import check_groups, finish
from rag.answer.plan import Group, Plan, plan
from rag.answer.prompts import load_prompts
from rag.answer.verify import Passage
from rag.errors import EngineError, ModelUnavailable, RagError
from rag.index.builder import IngestResult, ingest
from rag.index.embedding import Embedder, LazyEmbedder
from rag.index.reader import Index
from rag.index.versions import live_version
from rag.ingest.corpus import PIPELINE_VERSION
from rag.progress import Progress
from rag.records import Answer, Hit, Judgement, Paragraph, Report
from rag.search.question import clean_question
from rag.search.retrieval import Searcher, SearchResult
from rag.settings import Settings

EXTRACTIVE_PASSAGES = 5
log = logging.getLogger(__name__)


def fallback_notice(engine: engines.Engine, error: Exception) -> str:
    """What an answer says when its engine failed and the extractive engine answered instead."""
    reason = str(error).strip().rstrip(".")
    return f"The {engine.description} could not be used ({reason}); this answer was extracted from the reports."


class EventKind(StrEnum):
    PLAN = "plan"           # the evidence, at once
    TOKEN = "token"         # text as the engine writes it
    ANSWER = "answer"       # the checked Answer, last


@dataclass(frozen=True)
class Event:
    """What a streaming answer reports, in order: PLAN, TOKEN..., then ANSWER."""
    kind: EventKind
    plan: Plan | None = None
    text: str = ""
    group: int = 0
    answer: Answer | None = None


@dataclass(frozen=True)
class _Runner:
    """An engine made ready: its runnable, a guard that turns its model's failures into EngineError, and
    the chat model (None for the extractive engine)."""
    runnable: Any
    guard: Callable[[], contextlib.AbstractContextManager]
    model: Any = None


@dataclass
class Assistant:
    settings: Settings = field(default_factory=Settings.from_env)
    embedder: Embedder | None = None
    engine: str | None = None            # an engine name (rag.answer.engines); overrides settings.llm
    _searcher: Searcher | None = field(default=None, init=False, repr=False)
    _runners: dict[str, _Runner] = field(default_factory=dict, init=False, repr=False)
    _index_only: Index | None = field(default=None, init=False, repr=False)
    _failed_version: str | None = field(default=None, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    # Engines whose model cannot load in this process: later questions go straight to the extractive
    # engine instead of re-trying a load that takes seconds (a missing or damaged model file).
    _unavailable: dict[str, ModelUnavailable] = field(default_factory=dict, init=False, repr=False)
    engine_note: str = field(default="", init=False)

    def __post_init__(self) -> None:
        chosen, self.engine_note = engines.choose(self.settings, self.engine)
        self.engine = chosen.name

    # ---- loading (once) ----------------------------------------------------------------------------

    @property
    def searcher(self) -> Searcher:
        """The searcher over the live index. When an ingest (here or in another process) makes a new index
        version live, the next question loads it; questions already running finish on the old one."""
        with self._lock:
            if self._searcher is None:
                self._searcher = Searcher.open(self.settings, self.embedder)
                self.embedder = self._searcher.embedder
            elif (newer := self._newer_version()) is not None:
                try:
                    self.reload()
                except RagError as error:     # a broken new version: keep answering from the old one
                    self._failed_version = newer
                    log.warning("Kept index %s: the new version could not be loaded (%s)",
                                self._searcher.index.version, error)
            return self._searcher

    def _newer_version(self) -> str | None:
        live = live_version(self.settings.index)
        loaded = self._searcher.index.version if self._searcher is not None else None
        return None if live in (None, loaded, self._failed_version) else live

    def load(self, *, warm_engine: bool = False) -> Assistant:
        """Load the index and models now (before timing, serving or a batch) instead of on first use.
        warm_engine: also load the language model and let it read its fixed instructions once, so the
        first user does not wait for that (a few seconds for the local model)."""
        searcher = self.searcher
        _ = searcher.index.word_weights       # the extractive engine's word weights, computed once
        if warm_engine and engines.get(self.engine).writes:
            paragraph = searcher.index.paragraphs[0]
            group = Group(None, (Passage(1, Hit(paragraph, searcher.index.report_of(paragraph), 1.0)),),
                          "What does this passage say?", "passage")
            try:
                runner = self._runner(self.engine)
                with runner.guard():
                    for _ in runner.runnable.stream(group):
                        break                 # the prompt has been read: that is what warming is for
            except (EngineError, ModelUnavailable) as error:     # serve anyway: answers fall back
                self._engine_failed(self.engine, error)
                self.engine_note = f"{str(error).strip()} Answers are extracted from the reports while this lasts."
        return self

    def reload(self) -> None:
        """Pick up a new index version (after an ingest) without reloading the models. The new index is
        loaded before the swap, so a failure (IndexMismatch, ...) leaves the old one answering."""
        with self._lock:
            self._index_only = None
            if self._searcher is None:
                return
            self._searcher = self._searcher.reopened(self.settings.index)
            log.info("Answering from index version %s (%d reports)", self._searcher.index.version,
                     len(self._searcher.index.reports))

    def ingest(self, progress: Progress | None = None, *, rebuild: bool = False) -> IngestResult:
        """Read the corpus into the index (the one ingest path of the CLI and the web app's uploads), then
        answer from the new version. The embedder is the one already loaded, or loaded only if something
        needs embedding."""
        embedder = self.embedder or LazyEmbedder(self.settings)
        result = ingest(self.settings.corpus, self.settings.index, embedder, progress=progress,
                        max_bytes=self.settings.max_file_bytes, rebuild=rebuild)
        with self._lock:
            if self._searcher is not None:
                self.reload()
            self._index_only = None
        return result

    def _runner(self, name: str) -> _Runner:
        """An engine made ready once; a model that cannot load raises ModelUnavailable (and is remembered)."""
        # LangChain takes 2 s to import: only when a question is answered, never for `rag reports`.
        from rag.answer.chain import extractive_runnable, model_runnable
        from rag.answer.chat_models import engine_errors
        with self._lock:
            if name in self._unavailable:
                raise self._unavailable[name]
            if name not in self._runners:
                engine = engines.get(name)
                if not engine.writes:
                    runner = _Runner(extractive_runnable(lambda: self.searcher.index.word_weights),
                                     contextlib.nullcontext)
                else:
                    model = engine.make_model(self.settings)
                    runnable = model_runnable(load_prompts(self.settings.prompts), model,
                                              passages=self.settings.context_k, words=self.settings.passage_words)
                    runner = _Runner(runnable, partial(engine_errors, model), model)
                self._runners[name] = runner
            return self._runners[name]

    def _engine_failed(self, name: str, error: Exception) -> None:
        # INFO: the answer's notice tells the user; `rag serve` logs it for whoever runs the server.
        log.info("The %s engine failed; answering with the extractive engine: %s", name, error)
        if isinstance(error, ModelUnavailable):
            with self._lock:
                self._unavailable[name] = error

    # ---- answering ---------------------------------------------------------------------------------

    def stream(self, question: str, history: Sequence[dict] = (), *, authorities: Sequence[str] | None = None,
               year: int | None = None, engine: str | None = None) -> Iterator[Event]:
        question = clean_question(question)
        name = engine or self.engine
        started = time.perf_counter()
        # Groups carry enough passages for the extractive engine; a language model reads the first
        # settings.context_k of them (a small model copes with three to five, not more).
        context_k = max(EXTRACTIVE_PASSAGES, self.settings.context_k)
        the_plan = plan(self.searcher, question, history, k=self.settings.top_k, context_k=context_k,
                        authorities=authorities, year=year)
        yield Event(EventKind.PLAN, plan=the_plan)
        label, notice, raw, checked = name, "", "", []
        if the_plan.engine_writes:
            try:
                texts = yield from self._generate(name, the_plan)
                raw = "\n".join(texts)
                checked = check_groups(the_plan, texts)
                if engines.get(name).writes:
                    checked, used = self._verified_or_extractive(the_plan, texts, checked)
                    label = f"{name} + extractive" if used else name
            except (EngineError, ModelUnavailable) as error:
                if not engines.get(name).writes:
                    raise
                # The engine failed (before or after some tokens): the whole answer comes from the
                # paragraphs instead, and says why. A bug elsewhere is not caught here.
                self._engine_failed(name, error)
                extractive = self._runner(engines.EXTRACTIVE).runnable
                checked = check_groups(the_plan, [extractive.invoke(g) if g.passages else "" for g in the_plan.groups])
                label = f"extractive (fallback from {name})"
                notice = fallback_notice(engines.get(name), error)
        answer = finish(the_plan, checked, engine=label, raw_text=raw, seconds=time.perf_counter() - started)
        yield Event(EventKind.ANSWER, answer=replace(answer, notice=notice) if notice else answer)

    def _generate(self, name: str, the_plan: Plan) -> Generator[Event, None, list[str]]:
        """Stream the engine's text as TOKEN events; returns the text per group. Raises EngineError or
        ModelUnavailable when the engine fails, including a model that replies with nothing."""
        texts = ["" for _ in the_plan.groups]
        runner = self._runner(name)
        with runner.guard():
            for index, group in enumerate(the_plan.groups):
                for piece in runner.runnable.stream(group) if group.passages else ():
                    texts[index] += piece
                    yield Event(EventKind.TOKEN, text=piece, group=index)
        if runner.model is not None and any(g.passages and not t.strip() for g, t in zip(the_plan.groups, texts)):
            from rag.answer.chat_models import empty_reply_error  # loaded by _runner already
            raise empty_reply_error(runner.model)
        return texts

    def _verified_or_extractive(self, the_plan: Plan, texts: list[str],
                                checked: list[Checked]) -> tuple[list[Checked], bool]:
        """A group whose model text has no verified on-topic sentence gets the extractive answer instead:
        what reaches the user is always borne out by a paragraph."""
        extractive = self._runner(engines.EXTRACTIVE).runnable
        out, used = [], False
        for index, (group, text, done) in enumerate(zip(the_plan.groups, texts, checked)):
            # The grade lines come from the table, not the model: a why-answer needs a verified reason too.
            stated = f"{the_plan.grades}\n{group.grades}"
            written = [c for c in done.claims if not (stated.strip() and c.sentence.rstrip(".") in stated)]
            if not group.passages or any(c.verified and (group.reasons or on_topic(c.sentence, group.topic))
                                         for c in written):
                out.append(done)
                continue
            fallback = extractive.invoke(group)
            used |= fallback != text
            replaced = list(texts)
            replaced[index] = fallback
            out.append(check_groups(the_plan, replaced)[index])
        return out, used

    def ask(self, question: str, history: Sequence[dict] = (), **options: Any) -> Answer:
        answer = None
        for event in self.stream(question, history, **options):
            if event.kind == EventKind.ANSWER:
                answer = event.answer
        assert answer is not None
        return answer

    # ---- the rest of the product -------------------------------------------------------------------

    def search(self, question: str, k: int | None = None, *, authorities: Sequence[str] | None = None,
               year: int | None = None) -> SearchResult:
        return self.searcher.search(clean_question(question), k or self.settings.top_k,
                                    authorities=authorities, year=year)

    @property
    def index(self) -> Index:
        """The loaded index; commands that need no model (reports, judgements, show) load no model."""
        if self._searcher is not None:
            return self.searcher.index
        with self._lock:
            if self._index_only is None or live_version(self.settings.index) not in (None, self._index_only.version):
                self._index_only = Index.load(self.settings.index, embedder_name=None,
                                              pipeline_version=PIPELINE_VERSION)
            return self._index_only

    def reports(self) -> list[Report]:
        return list(self.index.reports.values())

    def judgements(self, authority: str | None = None) -> list[Judgement]:
        return [j for r in self.reports() for j in r.judgements if not authority or j.authority == authority]

    def paragraph(self, paragraph_id: str) -> tuple[Paragraph, Report]:
        """A paragraph by its id, or by the short id after the colon when only one report has it."""
        index = self.index
        p = index.paragraph(index.full_id(paragraph_id))
        return p, index.report_of(p)

    def context(self, paragraph_id: str, n: int = 2) -> list[Paragraph]:
        return self.index.neighbours(self.index.full_id(paragraph_id), n)


def ask(question: str, history: Sequence[dict] = (), **options: Any) -> Answer:
    """One question, answered with settings from the environment (models load on each call: for many
    questions keep an Assistant)."""
    return Assistant().ask(question, history, **options)


__all__ = ["Assistant", "Event", "EventKind", "ask", "RagError"]
