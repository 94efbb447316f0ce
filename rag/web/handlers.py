"""The handlers the web app calls. They only call the Assistant and the renderers (rag.web.html); no
retrieval or answering logic lives here. They return plain values (HTML strings, message lists, paths) so
they are tested without a browser; rag.web.page wires them to Gradio components, rag.web.server serves.

Every handler turns a RagError into a message shown in the page; any other failure is logged and shown
as a one-line message, never a stack trace.
"""
from __future__ import annotations

import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.assistant import Assistant, EventKind
from rag.errors import ConfigError, IndexMismatch, IndexMissing, RagError
from rag.ingest.corpus import corpus_files
from rag.ingest.upload import RejectedUpload, StoredUpload, remove_stored, store_uploads
from rag.ofsted.grades import GRADE_ORDER
from rag.ofsted.table import GridRow, TableFilter, grid, grid_csv
from rag.progress import Progress
from rag.records import Answer, Hit, Report
from rag.settings import Settings
from rag.text.words import join_names
from rag.web import html as ui_render

log = logging.getLogger(__name__)

# The three questions on the empty chat; each answers from the default corpus with verified citations.
EXAMPLES = (
    "How many children in Wandsworth were the subject of a child protection plan?",
    "Compare adoption in Wandsworth and Windsor and Maidenhead",
    "What grades did Wandsworth and Windsor and Maidenhead get for adoption performance?",
)
ANY = ""     # the value of "any report" / "any year" in the filter dropdowns


GRID_DETAIL_REPORTS = 6      # up to this many reports: side by side, every area they grade
ALL_REGIONS, ALL_FRAMEWORKS = "All regions", "All frameworks"
FRAMEWORKS = {"ILACS (2018-)": "ofsted_ilacs", "SIF (2013-18)": "ofsted_sif"}
SORTS = ("Authority", "Region", "Overall grade, worst first", "Latest report first")


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


@dataclass
class WebApp:
    settings: Settings
    assistant: Assistant | None = None     # built from settings when not given (tests pass a shared one)
    export_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rag-exports-")))
    _ingest_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.assistant is None:
            self.assistant = Assistant(self.settings)

    # ---- startup -------------------------------------------------------------------------------------

    def warm(self, progress: Progress | None = None, *, engine_in_background: bool = False) -> None:
        """Load the index and models once, before the first request. A fresh install has no index yet:
        the corpus is ingested first, so the first page already answers. engine_in_background: the page
        is served while the language model reads its instructions (the first question waits for it)."""
        try:
            self.assistant.load(warm_engine=not engine_in_background)   # index, embedder, reranker, model
        except (IndexMissing, IndexMismatch) as e:
            if not corpus_files(self.settings.corpus):
                raise
            why = "was built by another version" if isinstance(e, IndexMismatch) else "does not exist yet"
            log.warning("The index %s %s: building it from %s now.", self.settings.index, why, self.settings.corpus)
            self.assistant.ingest(progress)
            self.assistant.load(warm_engine=not engine_in_background)
        if engine_in_background:
            threading.Thread(target=self.assistant.load, kwargs={"warm_engine": True}, name="warm-engine",
                             daemon=True).start()

    def engine_line(self) -> str:
        return (f'<div class="engine">Engine: <b>{ui_render.escape(self.assistant.engine)}</b> — '
                f'{ui_render.escape(self.assistant.engine_note)}</div>')

    def corpus_line(self) -> str:
        """What is loaded and how to add more: the first thing a new user needs to know."""
        try:
            reports = self.assistant.reports()
        except RagError as e:
            return _status(_failure(e), "error")
        years = sorted(r.year for r in reports if r.year)
        span = f", {years[0]}–{years[-1]}" if years else ""
        authorities = len({r.authority for r in reports if r.authority})
        return (f'<div class="corpus-line">Loaded: <b>{len(reports)}</b> reports of <b>{authorities}</b> '
                f'authorities{span}. Add reports in the <i>Add reports</i> tab, or put them in the corpus '
                f'folder and run <code>rag ingest</code>.</div>')

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
        for number, turn in enumerate(turns, 1):
            out.append({"role": "user", "content": ui_render.user_message(turn.question)})
            out.append({"role": "assistant", "content": ui_render.answer_message(turn.answer, number)})
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
                if event.kind == EventKind.PLAN:
                    hits = _evidence(event.plan)
                    note = (f"{len(hits)} paragraphs found; the {self.assistant.engine} engine is writing "
                            f"the answer…") if event.plan.engine_writes else \
                        f"{len(hits)} paragraphs found."
                    yield ChatView(pending(f"<i>{ui_render.escape(note)}</i>"),
                                   ui_render.evidence_cards(hits, note), _status(note), done)
                elif event.kind == EventKind.TOKEN:
                    texts[event.group] = texts.get(event.group, "") + event.text
                    if time.monotonic() - shown > 0.1:     # a browser need not redraw for every token
                        shown = time.monotonic()
                        draft = "\n".join(texts[g] for g in sorted(texts))
                        yield ChatView(pending(ui_render.escape(draft) + " ▌"), None, _status("Writing…"), done)
                elif event.kind == EventKind.ANSWER:
                    answer = event.answer
                    now = (*done, Turn(question, answer))
                    earlier = [(n, t.question, t.answer) for n, t in enumerate(done, 1)]   # folded below
                    yield ChatView(self.messages(now), ui_render.citation_cards(answer, len(now), earlier),
                                   _answer_status(answer), now)
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
                if event.kind == EventKind.PLAN:
                    note = f"Comparing {join_names(chosen)}: evidence found, writing the table…"
                    yield CompareView("", ui_render.evidence_cards(_evidence(event.plan), note), _status(note))
                elif event.kind == EventKind.ANSWER:
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

    def judgements(self, region: str | None = None, framework: str | None = None, since: int | None = None,
                   until: int | None = None, every: bool = False, sort: str = SORTS[0]) -> str:
        """The judgements grid: a few reports side by side with every area they grade; a larger corpus as
        one row per authority (its latest inspection, or every one in date order), filtered and sorted."""
        try:
            index = self.assistant.index
            wanted = grid_filter(region, framework, since, until, every)
            if len(index.reports) <= GRID_DETAIL_REPORTS and wanted == grid_filter():
                return ui_render.judgements_grid(self.assistant.judgements(), index.paragraph, index.reports)
            rows = sorted_rows(grid(list(index.reports.values()), wanted), sort)
            return ui_render.national_grid(rows, index.paragraph, wanted.describe())
        except Exception as e:  # noqa: BLE001
            return _status(_failure(e), "error")

    def export_judgements(self, region: str | None = None, framework: str | None = None, since: int | None = None,
                          until: int | None = None, every: bool = False, sort: str = SORTS[0]) -> Path | None:
        """The grid as filtered, as CSV: one line per report, each grade with its paragraph id."""
        wanted = grid_filter(region, framework, since, until, every)
        rows = sorted_rows(grid(list(self.assistant.index.reports.values()), wanted), sort)
        return self._export("judgements.csv", grid_csv(rows)) if rows else None

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
                    result = self.assistant.ingest(progress)
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
        return UploadView(ui_render.upload_message(stored, rejected), tuple(stored), tuple(rejected))

    def _indexed(self) -> list[Report]:
        try:
            return self.assistant.reports()
        except RagError:          # no index yet: nothing to be a copy of
            return []

    # ---- API for scripts -----------------------------------------------------------------------------

    def ask_json(self, question: str, authorities: Sequence[str] | None = None, year: int | None = None) -> dict:
        """One answer as the JSON the CLI prints (`rag ask --json`). Raises RagError."""
        chosen = list(authorities) if authorities else None
        return self.assistant.ask(question, (), authorities=chosen, year=year).to_json()




def grid_filter(region: str | None = None, framework: str | None = None, since: int | float | None = None,
                until: int | float | None = None, every: bool = False) -> TableFilter:
    """The grid's filter from the page's controls ('All regions', a year range, every inspection)."""
    kind = FRAMEWORKS.get(framework or "")
    return TableFilter(region=region if region and region != ALL_REGIONS else None,
                       since=f"{int(since)}-01-01" if since else None, until=f"{int(until)}-12-31" if until else None,
                       scope="all" if every else "latest", frameworks=frozenset({kind}) if kind else frozenset())


def sorted_rows(rows: list[GridRow], sort: str) -> list[GridRow]:
    """Rows in the order asked; an authority's reports stay together, oldest first."""
    def overall(row: GridRow) -> int:
        cell = row.cells[0]
        return -GRADE_ORDER.index(cell.grade) if cell and cell.grade in GRADE_ORDER else 1
    latest = {}
    for row in rows:
        latest[row.report.authority] = row        # grid rows are oldest first within an authority
    keys = {"Region": lambda a: (latest[a].region, a), "Overall grade, worst first": lambda a: (overall(latest[a]), a),
            "Latest report first": lambda a: (_negated(latest[a].report.date or ""), a)}
    order = sorted(latest, key=keys.get(sort, lambda a: a or ""))
    rank = {a: i for i, a in enumerate(order)}
    return sorted(rows, key=lambda r: rank[r.report.authority])


def _negated(day: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in day)


def _evidence(plan) -> list[Hit]:
    hits = [p.hit for g in plan.groups for p in g.passages]
    return hits or list(plan.result.hits[:5])


def _without_table(answer: Answer) -> Answer:
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
