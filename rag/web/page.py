"""The Gradio page: layout and wiring only. Every event calls a WebApp handler (rag.web.handlers); the
HTML comes from rag.web.html, the style and the click script from rag/web/assets. One builder per tab."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from rag.errors import RagError
from rag.ingest.readers import SUPPORTED
from rag.settings import Settings
from rag.ofsted.facts import regions
from rag.web.handlers import ALL_FRAMEWORKS, ALL_REGIONS, ANY, EXAMPLES, FRAMEWORKS, SORTS, WebApp

TITLE = "Children's services inspection reports — answers with cited paragraphs"
ASSETS = Path(__file__).resolve().parent / "assets"
CSS = (ASSETS / "page.css").read_text(encoding="utf-8")
# Clicks on any 'Open in context' button or grade inside an HTML panel send that paragraph's id to Python.
OPEN_PARAGRAPH_JS = (ASSETS / "open_paragraph.js").read_text(encoding="utf-8")
# Citation marks scroll to their card; a grade clicked in the grid brings its paragraph into view.
FOLLOW_LINKS_JS = (ASSETS / "follow_links.js").read_text(encoding="utf-8")
_SOURCES_HELP = ('<div class="sources-summary">Sources</div><p>The paragraphs an answer cites appear here, '
                 'as soon as they are found.</p>')
_CONTEXT_HELP = "<p>Click <b>Open in context</b> on a source to read it with its neighbouring paragraphs.</p>"


def _event_paragraph(evt: gr.EventData) -> str | None:
    data = getattr(evt, "_data", None) or {}
    return data.get("paragraph") if isinstance(data, dict) else None


def _download(path: Path | None) -> gr.DownloadButton:
    return gr.DownloadButton(value=str(path) if path else None, interactive=path is not None)


@dataclass
class _CorpusViews:
    """Components that show what the corpus holds: refreshed when a page loads and after an upload."""
    chat_authorities: gr.Dropdown
    report: gr.Dropdown
    year: gr.Dropdown
    compare_authorities: gr.Dropdown | None = None
    grid: gr.HTML | None = None
    reports: gr.HTML | None = None

    @property
    def outputs(self) -> list:
        return [self.chat_authorities, self.compare_authorities, self.report, self.year, self.grid, self.reports]


def _refresh(app: WebApp) -> tuple:
    """Current corpus choices for a page (after an upload, another tab sees them on reload)."""
    names = app.authorities()
    return (gr.Dropdown(choices=names), gr.Dropdown(choices=names), gr.Dropdown(choices=app.report_options()),
            gr.Dropdown(choices=app.year_options()), app.judgements(), app.reports_html())


def _open_paragraph(app: WebApp):
    def handler(evt: gr.EventData) -> str:
        return app.open_paragraph(_event_paragraph(evt))
    return handler


def _chat_tab(app: WebApp) -> _CorpusViews:
    turns = gr.State(())
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Conversation", elem_id="chatbot", height=520,
                                 examples=[{"text": q} for q in EXAMPLES],
                                 placeholder="Ask about the inspection reports, or try an example.",
                                 latex_delimiters=[], sanitize_html=True, allow_tags=False,
                                 feedback_options=None, buttons=["copy"])
            with gr.Row():
                question = gr.Textbox(show_label=False, scale=5, elem_id="question",
                                      placeholder="e.g. How does Hillingdon support care leavers?")
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
            with gr.Accordion("Filters", open=True):
                with gr.Row():
                    authorities = gr.Dropdown(app.authorities(), multiselect=True, label="Authorities",
                                              elem_id="filter-authorities")
                    report = gr.Dropdown(app.report_options(), value=ANY, label="Report", elem_id="filter-report")
                    year = gr.Dropdown(app.year_options(), value=ANY, label="Year", elem_id="filter-year")
            with gr.Row():
                clear = gr.Button("New conversation", elem_id="clear")
                export = gr.DownloadButton("Export conversation (Markdown)", interactive=False,
                                           elem_id="export-conversation")
        with gr.Column(scale=2):
            status = gr.HTML(elem_id="status")
            sources = gr.HTML(_SOURCES_HELP, js_on_load=OPEN_PARAGRAPH_JS, elem_id="sources", max_height=560)
            gr.Markdown("**Paragraph in context**")
            context = gr.HTML(_CONTEXT_HELP, elem_id="chat-context")

    def chat(question: str, turns, authorities, report, year) -> Iterator[tuple]:
        for view in app.chat(question, turns, authorities, report, year):    # the box empties at once
            yield "", view.messages, gr.skip() if view.sources is None else view.sources, view.status, view.turns

    def export_conversation(turns):
        return _download(app.export_conversation(turns))

    def pick_example(evt: gr.SelectData) -> str:
        return evt.value["text"] if isinstance(evt.value, dict) else str(evt.value)

    def new_conversation():
        return [], _SOURCES_HELP, "", (), _CONTEXT_HELP, gr.DownloadButton(value=None, interactive=False)

    inputs = [question, turns, authorities, report, year]
    outputs = [question, chatbot, sources, status, turns]
    gr.on([send.click, question.submit], chat, inputs, outputs, api_name="chat").then(
        export_conversation, turns, export, api_visibility="private")
    chatbot.example_select(pick_example, None, question, api_visibility="private").then(
        chat, inputs, outputs, api_visibility="private").then(export_conversation, turns, export,
                                                              api_visibility="private")
    clear.click(new_conversation, None, [chatbot, sources, status, turns, context, export], api_visibility="private")
    chatbot.clear(lambda: ((), _SOURCES_HELP, "", _CONTEXT_HELP), None, [turns, sources, status, context],
                  api_visibility="private")
    sources.click(_open_paragraph(app), None, context, api_visibility="private")
    return _CorpusViews(authorities, report, year)


def _compare_tab(app: WebApp) -> gr.Dropdown:
    compared = gr.State(None)
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                authorities = gr.Dropdown(app.authorities(), multiselect=True, scale=3,
                                          label="Authorities (two or more)", elem_id="compare-authorities")
                topic = gr.Textbox(label="Topic", scale=2, elem_id="compare-topic",
                                   placeholder="e.g. adoption, care leavers, early help")
            button = gr.Button("Compare", variant="primary", elem_id="compare-button")
            status = gr.HTML(elem_id="compare-status")
            table = gr.HTML(elem_id="compare-table")
            csv = gr.DownloadButton("Download the table (CSV)", interactive=False, elem_id="export-csv")
        with gr.Column(scale=2):
            sources = gr.HTML(js_on_load=OPEN_PARAGRAPH_JS, elem_id="compare-sources", max_height=560)
            context = gr.HTML(elem_id="compare-context")

    def compare(authorities, topic) -> Iterator[tuple]:
        for view in app.compare(authorities, topic):
            yield view.table, view.sources, view.status, view.answer

    def export_table(answer):
        return _download(app.export_table(answer))

    button.click(compare, [authorities, topic], [table, sources, status, compared], api_name="compare").then(
        export_table, compared, csv, api_visibility="private")
    sources.click(_open_paragraph(app), None, context, api_visibility="private")
    return authorities


def _judgements_tab(app: WebApp) -> gr.HTML:
    gr.Markdown("Graded judgements stated by each inspection report. A few reports are shown side by side "
                "with every area they grade; a larger corpus as one row per authority: its latest inspection, "
                "or every inspection in date order.")
    with gr.Row():
        region = gr.Dropdown([ALL_REGIONS, *regions()], value=ALL_REGIONS, label="Region", elem_id="grid-region")
        framework = gr.Dropdown([ALL_FRAMEWORKS, *FRAMEWORKS], value=ALL_FRAMEWORKS, label="Framework",
                                elem_id="grid-framework")
        since = gr.Number(label="From year", precision=0, minimum=2005, maximum=2100, elem_id="grid-since")
        until = gr.Number(label="To year", precision=0, minimum=2005, maximum=2100, elem_id="grid-until")
        every = gr.Checkbox(label="All inspections (a timeline per authority)", elem_id="grid-every")
        sort = gr.Dropdown(list(SORTS), value=SORTS[0], label="Sort by", elem_id="grid-sort")
    grid = gr.HTML(app.judgements(), js_on_load=OPEN_PARAGRAPH_JS, elem_id="judgements-grid")
    csv = gr.DownloadButton("Download CSV", value=None, interactive=True, elem_id="grid-csv")
    gr.Markdown("**The paragraph that states the grade**")
    context = gr.HTML("<p>Click a grade in the grid.</p>", elem_id="grid-context")
    controls = [region, framework, since, until, every, sort]

    def show(*values):
        return app.judgements(*values), _download(app.export_judgements(*values))
    for control in controls:
        control.change(show, controls, [grid, csv], api_visibility="private")
    grid.click(_open_paragraph(app), None, context, api_visibility="private")
    return grid


def _upload_tab(app: WebApp, views: _CorpusViews) -> None:
    kinds = ", ".join(s.lstrip(".").upper() for s in SUPPORTED)
    gr.Markdown(f"Add inspection reports ({kinds}; up to {app.settings.max_file_mb} MB each). "
                "They are indexed at once and appear in the filters.")
    files = gr.File(file_count="multiple", file_types=list(SUPPORTED), type="filepath", label="Reports",
                    elem_id="upload-files")
    add = gr.Button("Add to the corpus", variant="primary", elem_id="upload-button")
    result = gr.HTML(elem_id="upload-result")
    views.reports = gr.HTML(app.reports_html(), elem_id="reports")

    def upload(files, progress=gr.Progress()):
        view = app.upload(files, progress=lambda stage, done, total: progress((done, total), desc=stage))
        return (view.message, *_refresh(app), None)

    # One progress bar, on the result line: by default Gradio draws one over every output component.
    add.click(upload, files, [result, *views.outputs, files], concurrency_limit=1, api_visibility="private",
              show_progress_on=[result])


def build_ui(app: WebApp) -> gr.Blocks:
    def ask(question: str, authorities: list[str] | None = None, year: int | None = None) -> dict:
        """One question answered as JSON (the shape of `rag ask --json`)."""
        try:
            return app.ask_json(question, authorities, year)
        except RagError as e:
            raise gr.Error(str(e)) from None

    with gr.Blocks(title="Inspection reports: cited answers", analytics_enabled=False) as demo:
        gr.HTML(f"<h2 style='margin:0'>{TITLE}</h2>")
        gr.HTML(app.engine_line(), elem_id="engine")
        corpus_line = gr.HTML(app.corpus_line(), elem_id="corpus-line")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                views = _chat_tab(app)
            with gr.Tab("Compare authorities", id="compare"):
                views.compare_authorities = _compare_tab(app)
            with gr.Tab("Judgements", id="judgements"):
                views.grid = _judgements_tab(app)
            with gr.Tab("Add reports", id="upload"):
                _upload_tab(app, views)
        demo.load(lambda: _refresh(app), None, views.outputs, api_visibility="private")
        demo.load(app.corpus_line, None, corpus_line, api_visibility="private")
        gr.api(ask, api_name="ask")
    return demo


def launch(demo: gr.Blocks, settings: Settings, *, block: bool = True, quiet: bool = False):
    """Serve on settings.host:port (127.0.0.1 by default) with the queue sized from settings. With
    block=False it returns (app, local_url, share_url) and serves in a background thread."""
    auth = (settings.username, settings.password) if settings.username else None
    demo.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    return demo.launch(server_name=settings.host, server_port=settings.port, auth=auth,
                       max_file_size=settings.max_file_bytes, prevent_thread_lock=not block,
                       quiet=quiet, show_error=False, ssr_mode=False, css=CSS, footer_links=["api"],
                       head=f"<script>{FOLLOW_LINKS_JS}</script>",
                       enable_monitoring=False, pwa=False, mcp_server=False)
