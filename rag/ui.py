"""The Gradio page: layout and wiring only. Every event calls a WebApp handler (rag/webapp.py); the HTML
comes from rag/ui_render.py. Kept inside the package so `rag serve` works from any install; `app.py`
at the top of the checkout starts the same page."""
from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from rag.errors import RagError
from rag.readers import SUPPORTED
from rag.settings import Settings
from rag.webapp import ANY, EXAMPLES, WebApp

TITLE = "Children's services inspection reports — answers with cited paragraphs"

# Clicks on any 'Open in context' button or grade inside an HTML panel send that paragraph's id to Python.
OPEN_PARAGRAPH_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-paragraph]');
  if (button) { trigger('click', {paragraph: button.dataset.paragraph}); }
});
"""

CSS = """
.engine { font-size: 0.9em; opacity: 0.85; }
.status { padding: 6px 10px; border-radius: 6px; margin-bottom: 6px; font-size: 0.92em; }
.status-ok { background: #e6f4ea; color: #1e4620; }
.status-warning { background: #fff4e5; color: #663c00; }
.status-error { background: #fdecea; color: #611a15; }
.status-info { background: #e8f0fe; color: #174ea6; }
.sources-summary { font-weight: 600; margin: 4px 0 8px; }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin-bottom: 8px; background: var(--block-background-fill); }
.source-card .card-head { font-size: 0.95em; }
.source-card .key { font-weight: 700; color: #1a73e8; }
.card-meta { font-size: 0.85em; opacity: 0.8; margin-top: 2px; }
.card-text { margin: 6px 0; font-size: 0.92em; line-height: 1.45; }
mark { background: #fff2a8; color: #202124; padding: 0 1px; }
.open-context { font-size: 0.85em; border: 1px solid #1a73e8; color: #1a73e8; background: transparent;
  border-radius: 4px; padding: 2px 8px; cursor: pointer; }
sup.cite { color: #1a73e8; font-weight: 600; margin: 0 0 0 1px; padding: 0; }
sup.cite a { color: inherit; text-decoration: none; margin: 0; padding: 0; }
.unverified { background: #d93025; color: #fff; border-radius: 4px; padding: 0 5px; font-size: 0.78em;
  font-weight: 600; text-transform: uppercase; }
.answer-facts { font-size: 0.8em; opacity: 0.75; }
.engine-notice { display: inline-block; background: #fff4e5; color: #663c00; border-radius: 4px; padding: 2px 6px;
  margin-bottom: 4px; font-size: 0.88em; }
.error { color: #d93025; font-weight: 600; }
.compare-table, .judgements-grid, .reports-table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
.compare-table th, .compare-table td, .judgements-grid th, .judgements-grid td, .reports-table th,
.reports-table td { border: 1px solid var(--border-color-primary); padding: 6px 8px; vertical-align: top;
  text-align: left; }
.compare-table td.silent { opacity: 0.6; font-style: italic; }
.grade { display: inline-block; border: none; border-radius: 4px; padding: 2px 6px; margin: 1px;
  font-size: 0.85em; cursor: pointer; color: #202124; white-space: nowrap; }
.grid-scroll { overflow-x: auto; }
.grade-outstanding { background: #0b8043; color: #fff; }
.grade-good { background: #7cc47f; }
.grade-adequate { background: #fdd663; }
.grade-ri { background: #f9ab00; }
.grade-inadequate { background: #d93025; color: #fff; }
.grade-other { background: #dadce0; }
.grid-legend { margin-bottom: 8px; font-size: 0.9em; }
.grid-legend .grade { cursor: default; }
.context-para { padding: 6px 8px; margin: 4px 0; border-left: 3px solid transparent; font-size: 0.92em; }
.context-para.target { border-left-color: #1a73e8; background: rgba(26, 115, 232, 0.08); }
.para-number { font-weight: 600; }
.para-page, .lead-in { opacity: 0.7; font-size: 0.9em; }
"""

_SOURCES_HELP = ('<div class="sources-summary">Sources</div><p>The paragraphs an answer cites appear here, '
                 'as soon as they are found.</p>')
_CONTEXT_HELP = "<p>Click <b>Open in context</b> on a source to read it with its neighbouring paragraphs.</p>"


def _event_paragraph(evt: gr.EventData) -> str | None:
    data = getattr(evt, "_data", None) or {}
    return data.get("paragraph") if isinstance(data, dict) else None


def build_ui(app: WebApp) -> gr.Blocks:
    def open_paragraph(evt: gr.EventData) -> str:
        return app.open_paragraph(_event_paragraph(evt))

    def chat(question: str, turns, authorities, report, year) -> Iterator[tuple]:
        for view in app.chat(question, turns, authorities, report, year):    # the box empties at once
            yield "", view.messages, gr.skip() if view.sources is None else view.sources, view.status, view.turns

    def compare(authorities, topic) -> Iterator[tuple]:
        for view in app.compare(authorities, topic):
            yield view.table, view.sources, view.status, view.answer

    def export_conversation(turns):
        path = app.export_conversation(turns)
        return gr.DownloadButton(value=str(path) if path else None, interactive=path is not None)

    def export_table(answer):
        path = app.export_table(answer)
        return gr.DownloadButton(value=str(path) if path else None, interactive=path is not None)

    def refresh():
        """Current corpus choices for a page (after an upload, another tab sees them on reload)."""
        names = app.authorities()
        return (gr.Dropdown(choices=names), gr.Dropdown(choices=names), gr.Dropdown(choices=app.report_options()),
                gr.Dropdown(choices=app.year_options()), app.judgements(), app.reports_html())

    def upload(files, progress=gr.Progress()):
        view = app.upload(files, progress=lambda stage, done, total: progress((done, total), desc=stage))
        return (view.message, *refresh(), None)

    def ask(question: str, authorities: list[str] | None = None, year: int | None = None) -> dict:
        """One question answered as JSON (the shape of `rag ask --json`)."""
        try:
            return app.ask_json(question, authorities, year)
        except RagError as e:
            raise gr.Error(str(e)) from None

    with gr.Blocks(title="Inspection reports: cited answers", analytics_enabled=False) as demo:
        gr.HTML(f"<h2 style='margin:0'>{TITLE}</h2>")
        gr.HTML(app.engine_line(), elem_id="engine")
        turns = gr.State(())
        compared = gr.State(None)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
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
                                report = gr.Dropdown(app.report_options(), value=ANY, label="Report",
                                                     elem_id="filter-report")
                                year = gr.Dropdown(app.year_options(), value=ANY, label="Year", elem_id="filter-year")
                        with gr.Row():
                            clear = gr.Button("New conversation", elem_id="clear")
                            export = gr.DownloadButton("Export conversation (Markdown)", interactive=False,
                                                       elem_id="export-conversation")
                    with gr.Column(scale=2):
                        status = gr.HTML(elem_id="status")
                        sources = gr.HTML(_SOURCES_HELP, js_on_load=OPEN_PARAGRAPH_JS, elem_id="sources",
                                          max_height=560)
                        gr.Markdown("**Paragraph in context**")
                        context = gr.HTML(_CONTEXT_HELP, elem_id="chat-context")
            with gr.Tab("Compare authorities", id="compare"):
                with gr.Row():
                    with gr.Column(scale=3):
                        with gr.Row():
                            compare_authorities = gr.Dropdown(app.authorities(), multiselect=True, scale=3,
                                                              label="Authorities (two or more)",
                                                              elem_id="compare-authorities")
                            topic = gr.Textbox(label="Topic", scale=2, elem_id="compare-topic",
                                               placeholder="e.g. adoption, care leavers, early help")
                        compare_button = gr.Button("Compare", variant="primary", elem_id="compare-button")
                        compare_status = gr.HTML(elem_id="compare-status")
                        compare_table = gr.HTML(elem_id="compare-table")
                        csv = gr.DownloadButton("Download the table (CSV)", interactive=False, elem_id="export-csv")
                    with gr.Column(scale=2):
                        compare_sources = gr.HTML(js_on_load=OPEN_PARAGRAPH_JS, elem_id="compare-sources",
                                                  max_height=560)
                        compare_context = gr.HTML(elem_id="compare-context")
            with gr.Tab("Judgements", id="judgements"):
                gr.Markdown("Graded judgements stated by each inspection report (areas down the side).")
                grid = gr.HTML(app.judgements(), js_on_load=OPEN_PARAGRAPH_JS, elem_id="judgements-grid")
                gr.Markdown("**The paragraph that states the grade**")
                grid_context = gr.HTML("<p>Click a grade in the grid.</p>", elem_id="grid-context")
            with gr.Tab("Add reports", id="upload"):
                kinds = ", ".join(s.lstrip(".").upper() for s in SUPPORTED)
                gr.Markdown(f"Add inspection reports ({kinds}; up to {app.settings.max_file_mb} MB each). "
                            "They are indexed at once and appear in the filters.")
                files = gr.File(file_count="multiple", file_types=list(SUPPORTED), type="filepath",
                                label="Reports", elem_id="upload-files")
                add = gr.Button("Add to the corpus", variant="primary", elem_id="upload-button")
                upload_result = gr.HTML(elem_id="upload-result")
                reports = gr.HTML(app.reports_html(), elem_id="reports")

        chat_inputs = [question, turns, authorities, report, year]
        chat_outputs = [question, chatbot, sources, status, turns]
        gr.on([send.click, question.submit], chat, chat_inputs, chat_outputs, api_name="chat").then(
            export_conversation, turns, export, api_visibility="private")

        def pick_example(evt: gr.SelectData) -> str:
            return evt.value["text"] if isinstance(evt.value, dict) else str(evt.value)

        chatbot.example_select(pick_example, None, question, api_visibility="private").then(
            chat, chat_inputs, chat_outputs, api_visibility="private").then(
            export_conversation, turns, export, api_visibility="private")
        def new_conversation():
            return [], _SOURCES_HELP, "", (), _CONTEXT_HELP, gr.DownloadButton(value=None, interactive=False)

        clear.click(new_conversation, None, [chatbot, sources, status, turns, context, export],
                    api_visibility="private")
        chatbot.clear(lambda: ((), _SOURCES_HELP, "", _CONTEXT_HELP), None, [turns, sources, status, context],
                      api_visibility="private")
        sources.click(open_paragraph, None, context, api_visibility="private")

        compare_button.click(compare, [compare_authorities, topic],
                             [compare_table, compare_sources, compare_status, compared], api_name="compare").then(
            export_table, compared, csv, api_visibility="private")
        compare_sources.click(open_paragraph, None, compare_context, api_visibility="private")
        grid.click(open_paragraph, None, grid_context, api_visibility="private")

        corpus_outputs = [authorities, compare_authorities, report, year, grid, reports]
        add.click(upload, files, [upload_result, *corpus_outputs, files], concurrency_limit=1,
                  api_visibility="private")
        demo.load(refresh, None, corpus_outputs, api_visibility="private")
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
                       enable_monitoring=False, pwa=False, mcp_server=False)
