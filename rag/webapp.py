"""The handlers the web app calls, and `serve(settings)`. They only call the Assistant, ingestion and the
renderers; no retrieval or answering logic lives here. They return plain values (HTML strings, message
lists, paths) so they are tested without a browser; rag/ui.py wires them to Gradio components.

Every handler turns a RagError into a message shown in the page; any other failure is logged and shown
as a one-line message, never a stack trace.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag import ui_render
from rag.errors import ConfigError, IndexMismatch, IndexMissing, RagError
from rag.records import Answer, Hit, Report
from rag.progress import Progress
from rag.settings import Settings
from rag.upload import RejectedUpload, StoredUpload, remove_stored, store_uploads

if TYPE_CHECKING:
    from rag.assistant import Assistant

log = logging.getLogger(__name__)

# The three questions on the empty chat; each answers from the default corpus with verified citations.
EXAMPLES = (
    "How many children in Wandsworth were the subject of a child protection plan?",
    "Compare adoption in Wandsworth and Windsor and Maidenhead",
    "What grades did Wandsworth and Windsor and Maidenhead get for adoption performance?",
)
ANY = ""     # the value of "any report" / "any year" in the filter dropdowns


@dataclass(frozen=True)
class Turn:
    question: str
    answer: Answer


@dataclass(frozen=True)
class ChatView:
    """One step of a streaming chat answer. sources None = leave the panel as it is."""
    messages: list[dict]
    sources: str | None
    status: str
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class CompareView:
    table: str
    sources: str
    status: str
    answer: Answer | None = None


@dataclass(frozen=True)
class UploadView:
    message: str                           # HTML
    added: tuple[StoredUpload, ...] = ()
    rejected: tuple[RejectedUpload, ...] = ()


def _status(text: str, kind: str = "info") -> str:
    return f'<div class="status status-{kind}">{ui_render.escape(text)}</div>'


def _failure(error: Exception) -> str:
    """What a user reads when something fails: the RagError's own message, or a one-liner for a bug."""
    if isinstance(error, RagError):
        return str(error)
    log.exception("web app handler failed")
    return f"Something went wrong ({type(error).__name__}); the details are in the server log."


def join_names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


@dataclass
class WebApp:
    settings: Settings
    assistant: Assistant | None = None     # built from settings when not given (tests pass a shared one)
    export_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rag-exports-")))
    _ingest_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.assistant is None:
            from rag.assistant import Assistant
            self.assistant = Assistant(self.settings)

    # ---- startup -------------------------------------------------------------------------------------

    def warm(self, progress: Progress | None = None) -> None:
        """Load the index and models once, before the first request. A fresh install has no index yet:
        the corpus is ingested first, so the first page already answers."""
        try:
            self.assistant.load(warm_engine=True)    # the index, the embedder, the reranker, the language model
        except (IndexMissing, IndexMismatch) as e:
            from rag.ingest import corpus_files
            if not corpus_files(self.settings.corpus):
                raise
            why = "was built by another version" if isinstance(e, IndexMismatch) else "does not exist yet"
            log.warning("The index %s %s: building it from %s now.", self.settings.index, why, self.settings.corpus)
            self._ingest(progress)
            self.assistant.reload()
            self.assistant.load(warm_engine=True)

    def engine_line(self) -> str:
        return (f'<div class="engine">Engine: <b>{ui_render.escape(self.assistant.engine)}</b> — '
                f'{ui_render.escape(self.assistant.engine_note)}</div>')

    # ---- filters -------------------------------------------------------------------------------------

    def authorities(self) -> list[str]:
        return sorted({r.authority for r in self.assistant.reports() if r.authority})

    def report_options(self) -> list[tuple[str, str]]:
        reports = sorted(self.assistant.reports(), key=lambda r: (r.authority or "", r.date or ""))
        return [("Any report", ANY)] + [(r.label, r.id) for r in reports]

    def year_options(self) -> list[tuple[str, str]]:
        years = sorted({r.year for r in self.assistant.reports() if r.year})
        return [("Any year", ANY)] + [(str(y), str(y)) for y in years]

    def filters(self, authorities: Sequence[str] | None, report: str | None,
                year: str | int | None) -> tuple[list[str] | None, int | None]:
        """UI choices -> the Assistant's (authorities, year). A chosen report means its authority and year."""
        if report:
            chosen = next((r for r in self.assistant.reports() if r.id == report), None)
            if chosen is not None and chosen.authority:
                return [chosen.authority], chosen.year
        if year and not str(year).strip().isdigit():
            raise ConfigError(f"The year filter must be a year such as 2015, not {year!r}.")
        return (list(authorities) or None) if authorities else None, int(year) if year else None

    # ---- chat ----------------------------------------------------------------------------------------

    @staticmethod
    def messages(turns: Sequence[Turn]) -> list[dict]:
        out: list[dict] = []
        for turn in turns:
            out.append({"role": "user", "content": ui_render.user_message(turn.question)})
            out.append({"role": "assistant", "content": ui_render.answer_message(turn.answer)})
        return out

    def chat(self, question: str, turns: Sequence[Turn] | None, authorities: Sequence[str] | None = None,
             report: str | None = None, year: str | int | None = None) -> Iterator[ChatView]:
        """Stream one answer: the question at once, the evidence as soon as it is found, the engine's text
        as it is written, then the checked answer with one source card per citation."""
        done = tuple(turns or ())
        question = (question or "").strip()
        if not question:
            yield ChatView(self.messages(done), None, _status("Type a question first.", "warning"), done)
            return
        asked = [*self.messages(done), {"role": "user", "content": ui_render.user_message(question)}]

        def pending(html: str) -> list[dict]:
            return [*asked, {"role": "assistant", "content": html}]

        yield ChatView(pending("<i>Searching the reports…</i>"), None, _status("Searching the reports…"), done)
        history = [m for t in done for m in ({"role": "user", "content": t.question},
                                             {"role": "assistant", "content": t.answer.text})]
        try:
            chosen, chosen_year = self.filters(authorities, report, year)
            texts: dict[int, str] = {}
            shown = 0.0
            for event in self.assistant.stream(question, history, authorities=chosen, year=chosen_year):
                if event.kind == "plan":
                    hits = _evidence(event.plan)
                    note = (f"{len(hits)} paragraphs found; the {self.assistant.engine} engine is writing "
                            f"the answer…") if event.plan.mode in ("single", "compare") else \
                        f"{len(hits)} paragraphs found."
                    yield ChatView(pending(f"<i>{ui_render.escape(note)}</i>"),
                                   ui_render.evidence_cards(hits, note), _status(note), done)
                elif event.kind == "token":
                    texts[event.group] = texts.get(event.group, "") + event.text
                    if time.monotonic() - shown > 0.1:     # a browser need not redraw for every token
                        shown = time.monotonic()
                        draft = "\n".join(texts[g] for g in sorted(texts))
                        yield ChatView(pending(ui_render.escape(draft) + " ▌"), None, _status("Writing…"), done)
                elif event.kind == "answer":
                    answer = event.answer
                    now = (*done, Turn(question, answer))
                    yield ChatView(self.messages(now), ui_render.citation_cards(answer), _answer_status(answer), now)
        except Exception as e:  # noqa: BLE001 - every failure becomes a message in the chat
            message = _failure(e)
            yield ChatView(pending(ui_render.error_message(message)), None, _status(message, "error"), done)

    # ---- compare -------------------------------------------------------------------------------------

    def compare(self, authorities: Sequence[str] | None, topic: str) -> Iterator[CompareView]:
        """Two or more authorities side by side on one topic, each cell cited."""
        chosen = list(dict.fromkeys(authorities or ()))
        topic = (topic or "").strip().rstrip("?.")
        if len(chosen) < 2:
            yield CompareView("", "", _status("Choose two or more authorities to compare.", "warning"))
            return
        if not topic:
            yield CompareView("", "", _status("Type a topic to compare, for example 'adoption' or "
                                              "'care leavers'.", "warning"))
            return
        question = f"Compare {topic} in {join_names(chosen)}"
        try:
            for event in self.assistant.stream(question, (), authorities=chosen):
                if event.kind == "plan":
                    note = f"Comparing {join_names(chosen)}: evidence found, writing the table…"
                    yield CompareView("", ui_render.evidence_cards(_evidence(event.plan), note), _status(note))
                elif event.kind == "answer":
                    answer = event.answer
                    if not answer.table:
                        status = _status("The reports give no side-by-side answer; the answer is below. "
                                         + answer.notice, "warning")
                        table = (f'<div class="plain-answer">{ui_render.notice_html(answer.notice)}'
                                 f'{ui_render.cited_text(answer.text, answer.citations)}</div>')
                    else:
                        status = _answer_status(answer)
                        table = ui_render.notice_html(answer.notice) + ui_render.table_html(answer.table,
                                                                                             answer.citations)
                    yield CompareView(table, ui_render.citation_cards(_without_table(answer)), status, answer)
        except Exception as e:  # noqa: BLE001
            yield CompareView("", "", _status(_failure(e), "error"))

    # ---- judgements, paragraphs, reports ---------------------------------------------------------------

    def judgements(self) -> str:
        try:
            index = self.assistant.index
            return ui_render.judgements_grid(self.assistant.judgements(), index.paragraph, index.reports)
        except Exception as e:  # noqa: BLE001
            return _status(_failure(e), "error")

    def open_paragraph(self, paragraph_id: str | None, neighbours: int = 2) -> str:
        """A paragraph in context: its report, heading path, number, page and the paragraphs around it."""
        if not paragraph_id:
            return _status("Click 'Open in context' on a source, or a grade in the grid.")
        try:
            paragraph, report = self.assistant.paragraph(paragraph_id)
            return ui_render.context_html(paragraph, report, self.assistant.context(paragraph_id, neighbours))
        except Exception as e:  # noqa: BLE001
            return _status(_failure(e), "error")

    def reports_html(self) -> str:
        try:
            return ui_render.reports_table(self.assistant.reports())
        except Exception as e:  # noqa: BLE001
            return _status(_failure(e), "error")

    # ---- exports -------------------------------------------------------------------------------------

    def export_conversation(self, turns: Sequence[Turn] | None) -> Path | None:
        if not turns:
            return None
        return self._export("conversation.md",
                            ui_render.conversation_markdown((t.question, t.answer) for t in turns))

    def export_table(self, answer: Answer | None) -> Path | None:
        if answer is None or not answer.table:
            return None
        return self._export("comparison.csv", ui_render.table_csv(answer.table, answer.citations))

    def _export(self, name: str, text: str) -> Path:
        """Each export in its own folder, so sessions never overwrite each other's file."""
        folder = self.export_dir / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    # ---- upload --------------------------------------------------------------------------------------

    def upload(self, files: Sequence[str | Path] | None, progress: Progress | None = None) -> UploadView:
        """Store the files in the corpus (safe names, checked first), ingest incrementally, then reload the
        index so new authorities appear in the filters at once."""
        paths = [Path(f) for f in files or ()]
        if not paths:
            return UploadView(_status("Choose one or more reports first (PDF, DOCX, HTML, MD or TXT).", "warning"))
        with self._ingest_lock:        # one ingestion at a time; questions keep being answered meanwhile
            stored, rejected = store_uploads([(p, p.name) for p in paths], self.settings.corpus,
                                             max_bytes=self.settings.max_file_bytes, indexed=self._indexed())
            if stored:
                try:
                    result = self._ingest(progress)
                except Exception as e:  # noqa: BLE001 - the index is untouched; take the files back out
                    remove_stored(stored)
                    reason = f"not added: indexing failed ({_failure(e)})"
                    rejected += [RejectedUpload(s.original, reason) for s in stored]
                    stored = []
                else:
                    skipped = {s.file: s.reason for s in result.corpus.skipped}
                    refused = [s for s in stored if s.path.name in skipped]
                    remove_stored(refused)
                    rejected += [RejectedUpload(s.original, skipped[s.path.name]) for s in refused]
                    stored = [s for s in stored if s not in refused]
                    self.assistant.reload()
        return UploadView(ui_render.upload_message(stored, rejected), tuple(stored), tuple(rejected))

    def _indexed(self) -> list[Report]:
        try:
            return self.assistant.reports()
        except RagError:          # no index yet: nothing to be a copy of
            return []

    def _ingest(self, progress: Progress | None):
        from rag.embedding import load_embedder
        from rag.ingest import ingest
        try:    # the searcher's own embedder: loaded once, and reload() then swaps in the new index
            embedder = self.assistant.searcher.embedder
        except RagError:          # no usable index yet (a fresh install): the first ingest builds it
            embedder = self.assistant.embedder or load_embedder(self.settings)
        return ingest(self.settings.corpus, self.settings.index, embedder, progress=progress,
                      max_bytes=self.settings.max_file_bytes)

    # ---- API for scripts -----------------------------------------------------------------------------

    def ask_json(self, question: str, authorities: Sequence[str] | None = None, year: int | None = None) -> dict:
        """One answer as the JSON the CLI prints (`rag ask --json`). Raises RagError."""
        chosen = list(authorities) if authorities else None
        return self.assistant.ask(question, (), authorities=chosen, year=year).to_json()


def _evidence(plan) -> list[Hit]:
    hits = [p.hit for g in plan.groups for p in g.passages]
    return hits or list(plan.result.hits[:5])


def _without_table(answer: Answer) -> Answer:
    from dataclasses import replace
    return replace(answer, table=())


def _answer_status(answer: Answer) -> str:
    notice = f" {answer.notice}" if answer.notice else ""      # the engine failed: say why, as a warning
    if answer.abstained:
        return _status(f"The reports do not answer this; nothing is cited.{notice}", "warning")
    total, verified = len(answer.claims), answer.verified_claims
    kind = "ok" if verified == total and not notice else "warning"
    cited = len(answer.citations)
    return _status(f"Answered by the {answer.engine} engine in {answer.seconds:.1f} s: {cited} "
                   f"citation{'s' if cited != 1 else ''}, {verified} of {total} claims verified.{notice}", kind)


def serve(settings: Settings) -> None:
    """Load everything once, then serve the app on settings.host:settings.port until interrupted."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")     # no calls home from an offline tool
    from rag.render import progress_printer
    from rag.ui import build_ui, launch
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("rag").addHandler(handler)           # engine fallbacks, index swaps: the operator sees them
    logging.getLogger("rag").setLevel(logging.INFO)
    _check_port(settings)      # before loading models for a minute: a busy port is known at once
    app = WebApp(settings)
    app.warm(progress=progress_printer("indexing the corpus"))
    try:
        launch(build_ui(app), settings)
    except OSError as error:   # taken between the check and now, or the address cannot be bound
        raise ConfigError(_port_message(settings, error)) from None


def _check_port(settings: Settings) -> None:
    import socket
    try:
        with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host, settings.port))
    except OSError as error:
        raise ConfigError(_port_message(settings, error)) from None


def _port_message(settings: Settings, error: OSError) -> str:
    return (f"Cannot serve on {settings.host}:{settings.port} ({error.strerror or error}): another server "
            f"may be using it; stop it, or set RAG_PORT (and RAG_HOST) to a free address.")
