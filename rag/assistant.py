"""The one object the CLI, the web app and Python users share: it loads the index and models once per
process and answers, searches and shows paragraphs.

    from rag import Assistant
    bot = Assistant()                       # settings from RAG_* variables
    answer = bot.ask("What grade did Wandsworth get for adoption?")
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rag.answering import Group, Plan, finish, plan
from rag.errors import EngineError, ModelUnavailable, RagError
from rag.query import clean_question
from rag.records import Answer, Judgement, Paragraph, Report
from rag.retrieval import Reranker, SearchResult, Searcher
from rag.settings import Settings


EXTRACTIVE_PASSAGES = 5
ENGINE_NAMES = {"local": "local model", "openai": "OpenAI-compatible server", "ollama": "Ollama server"}
log = logging.getLogger(__name__)


def fallback_notice(engine: str, error: Exception) -> str:
    """What an answer says when its engine failed and the extractive engine answered instead."""
    reason = str(error).strip().rstrip(".")
    return (f"The {ENGINE_NAMES.get(engine, 'language model')} could not be used ({reason}); "
            "this answer was extracted from the reports.")


@dataclass(frozen=True)
class Event:
    """What a streaming answer reports, in order: 'plan' (the evidence, at once), 'token' (text as the
    engine writes it), then 'answer' (the checked Answer)."""
    kind: str
    plan: Plan | None = None
    text: str = ""
    group: int = 0
    answer: Answer | None = None


@dataclass
class Assistant:
    settings: Settings = field(default_factory=Settings.from_env)
    embedder: Any = None
    engine: str | None = None            # overrides settings.llm for this object
    chat_model: Any = None               # a LangChain chat model to use instead of the engine's own (tests, users)
    _searcher: Searcher | None = field(default=None, init=False, repr=False)
    _runnables: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _index_only: Any = field(default=None, init=False, repr=False)
    _failed_version: str | None = field(default=None, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    # Engines whose model cannot load in this process: later questions go straight to the extractive
    # engine instead of re-trying a load that takes seconds (a missing or damaged model file).
    _unavailable: dict[str, ModelUnavailable] = field(default_factory=dict, init=False, repr=False)
    engine_note: str = field(default="", init=False)

    def __post_init__(self) -> None:
        from rag.llm import engine_status
        if self.chat_model is not None:
            self.engine = self.engine or "custom"
            self.engine_note = f"Answering with the chat model {type(self.chat_model).__name__}."
            return
        chosen = self.settings.replace(llm=self.engine) if self.engine else self.settings
        self.engine, self.engine_note = engine_status(chosen)

    # ---- loading (once) ----------------------------------------------------------------------------

    @property
    def searcher(self) -> Searcher:
        """The searcher over the live index. When an ingest (here or in another process) makes a new index
        version live, the next question loads it; questions already running finish on the old one."""
        with self._lock:
            if self._searcher is None:
                self._searcher = self._load_searcher()
            elif (newer := self._newer_version()) is not None:
                try:
                    self.reload()
                except RagError as error:     # a broken new version: keep answering from the old one
                    self._failed_version = newer
                    log.warning("Kept index %s: the new version could not be loaded (%s)",
                                self._searcher.index.version, error)
            return self._searcher

    def _newer_version(self) -> str | None:
        from rag.store import live_version
        live = live_version(self.settings.index)
        loaded = self._searcher.index.version if self._searcher is not None else None
        return None if live in (None, loaded, self._failed_version) else live

    def load(self, *, warm_engine: bool = False) -> Assistant:
        """Load the index and models now (before timing, serving or a batch) instead of on first use.
        warm_engine: also load the language model and let it read its fixed instructions once, so the
        first user does not wait for that (a few seconds for the local model)."""
        searcher = self.searcher
        _ = searcher.idf                      # the extractive engine's word weights, computed once
        if warm_engine and self.engine not in ("extractive",):
            from rag.citations import Passage
            from rag.records import Hit
            paragraph = searcher.index.paragraphs[0]
            group = Group(None, (Passage(1, Hit(paragraph, searcher.index.report_of(paragraph), 1.0)),),
                          "What does this passage say?", "passage")
            try:
                runnable, guard, _ = self._runnable(self.engine)
                with guard():
                    for _ in runnable.stream(group):
                        break                 # the prompt has been read: that is what warming is for
            except (EngineError, ModelUnavailable) as error:     # serve anyway: answers fall back
                self._engine_failed(self.engine, error)
                self.engine_note = (f"{str(error).strip()} Answers are extracted from the reports "
                                    "while this lasts.")
        return self

    def _load_searcher(self) -> Searcher:
        from rag.embedding import load_embedder
        from rag.ingest import PIPELINE_VERSION
        from rag.store import Index

        embedder = self.embedder or load_embedder(self.settings)
        self.embedder = embedder
        index = Index.load(self.settings.index, embedder_name=embedder.name, dimension=embedder.dimension,
                           pipeline_version=PIPELINE_VERSION)
        reranker = Reranker(self.settings.reranker) if self.settings.reranker else None
        return Searcher(index, embedder, reranker=reranker, rerank_depth=self.settings.rerank_depth)

    def reload(self) -> None:
        """Pick up a new index version (after an ingest) without reloading the models. The new index is
        loaded before the swap, so a failure (IndexMismatch, ...) leaves the old one answering."""
        with self._lock:
            old = self._searcher
            self._index_only = None
            if old is None:
                return
            from rag.ingest import PIPELINE_VERSION
            from rag.store import Index
            index = Index.load(self.settings.index, embedder_name=old.embedder.name,
                               dimension=old.embedder.dimension, pipeline_version=PIPELINE_VERSION)
            self._searcher = Searcher(index, old.embedder, reranker=old.reranker, rerank_depth=old.rerank_depth)
            log.info("Answering from index version %s (%d reports)", index.version, len(index.reports))

    def _runnable(self, engine: str):
        """(runnable, error guard, chat model) for an engine, built once; the guard turns the model's
        failures into EngineError."""
        from functools import partial

        from rag.chain import generation_runnable
        with self._lock:
            if engine in self._unavailable:
                raise self._unavailable[engine]
            if engine not in self._runnables:
                if engine == "extractive":
                    self._runnables[engine] = (generation_runnable("extractive", weights=lambda: self.searcher.idf),
                                               contextlib.nullcontext, None)
                else:
                    from rag.llm import engine_errors, make_chat_model
                    from rag.prompts import load_prompts
                    model = self.chat_model or make_chat_model(self.settings, engine)
                    runnable = generation_runnable(engine, load_prompts(self.settings.prompts), model,
                                                   passages=self.settings.context_k)
                    self._runnables[engine] = (runnable, partial(engine_errors, model), model)
            return self._runnables[engine]

    def _engine_failed(self, engine: str, error: Exception) -> None:
        # INFO: the answer's notice tells the user; `rag serve` logs it for whoever runs the server.
        log.info("The %s engine failed; answering with the extractive engine: %s", engine, error)
        if isinstance(error, ModelUnavailable):
            with self._lock:
                self._unavailable[engine] = error

    # ---- answering ---------------------------------------------------------------------------------

    def stream(self, question: str, history: Sequence[dict] = (), *, authorities: Sequence[str] | None = None,
               year: int | None = None, engine: str | None = None) -> Iterator[Event]:
        question = clean_question(question)
        engine = engine or self.engine
        started = time.perf_counter()
        # Groups carry enough passages for the extractive engine; a language model reads the first
        # settings.context_k of them (a small model copes with three to five, not more).
        context_k = max(EXTRACTIVE_PASSAGES, self.settings.context_k)
        the_plan = plan(self.searcher, question, history, k=self.settings.top_k, context_k=context_k,
                        authorities=authorities, year=year)
        yield Event("plan", plan=the_plan)
        texts = ["" for _ in the_plan.groups]
        label, notice = engine, ""
        if the_plan.mode in ("single", "compare"):
            try:
                texts = yield from self._generate(engine, the_plan)
            except (EngineError, ModelUnavailable) as error:
                if engine == "extractive":
                    raise
                # The engine failed (before or after some tokens): the whole answer comes from the
                # paragraphs instead, and says why. A bug elsewhere is not caught here.
                self._engine_failed(engine, error)
                extractive = self._runnable("extractive")[0]
                texts = [extractive.invoke(g) if g.passages else "" for g in the_plan.groups]
                label, notice = f"extractive (fallback from {engine})", fallback_notice(engine, error)
            else:
                if engine != "extractive":
                    texts, used = self._verified_or_extractive(the_plan, texts)
                    label = f"{engine} + extractive" if used else engine
        answer = finish(the_plan, texts, engine=label, seconds=time.perf_counter() - started)
        yield Event("answer", answer=replace(answer, notice=notice) if notice else answer)

    def _generate(self, engine: str, the_plan: Plan) -> Generator[Event, None, list[str]]:
        """Stream the engine's text as 'token' events; returns the text per group. Raises EngineError
        or ModelUnavailable when the engine fails, including a model that replies with nothing."""
        from rag.chain import answer_plan_streaming
        texts = ["" for _ in the_plan.groups]
        runnable, guard, model = self._runnable(engine)
        with guard():
            for index, piece in answer_plan_streaming(runnable, the_plan):
                texts[index] += piece
                yield Event("token", text=piece, group=index)
        if model is not None and any(g.passages and not t.strip() for g, t in zip(the_plan.groups, texts)):
            from rag.llm import empty_reply_error
            raise empty_reply_error(model)
        return texts

    def _verified_or_extractive(self, the_plan: Plan, texts: list[str]) -> tuple[list[str], bool]:
        """A group whose model text has no verified sentence (or refuses while a paragraph plainly answers)
        gets the extractive answer instead: what reaches the user is always borne out by a paragraph."""
        from rag.citations import check
        from rag.extractive import on_topic
        extractive = self._runnable("extractive")[0]
        out, used = [], False
        for group, text in zip(the_plan.groups, texts):
            checked = check(text, group.passages, question=the_plan.standalone)
            if any(c.verified and on_topic(c.sentence, group.topic) for c in checked.claims) or not group.passages:
                out.append(text)
                continue
            fallback = extractive.invoke(group)
            used |= fallback != text
            out.append(fallback)
        return out, used

    def ask(self, question: str, history: Sequence[dict] = (), **options: Any) -> Answer:
        answer = None
        for event in self.stream(question, history, **options):
            if event.kind == "answer":
                answer = event.answer
        assert answer is not None
        return answer

    # ---- the rest of the product -------------------------------------------------------------------

    def search(self, question: str, k: int | None = None, *, authorities: Sequence[str] | None = None,
               year: int | None = None) -> SearchResult:
        return self.searcher.search(clean_question(question), k or self.settings.top_k,
                                    authorities=authorities, year=year)

    @property
    def index(self):
        """The loaded index; commands that need no model (reports, judgements, show) load no model."""
        if self._searcher is not None:
            return self.searcher.index
        from rag.ingest import PIPELINE_VERSION
        from rag.store import Index, live_version
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
        index = self.index
        p = index.paragraph(paragraph_id)
        return p, index.report_of(p)

    def context(self, paragraph_id: str, n: int = 2) -> list[Paragraph]:
        return self.index.neighbours(paragraph_id, n)


def ask(question: str, history: Sequence[dict] = (), **options: Any) -> Answer:
    """One question, answered with settings from the environment (models load on each call: for many
    questions keep an Assistant)."""
    return Assistant().ask(question, history, **options)


__all__ = ["Assistant", "Event", "ask", "RagError"]
