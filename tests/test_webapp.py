"""The web app's handlers, without a browser: streaming chat, filters, compare, the judgements grid, a
paragraph in context, exports, escaping, and errors shown as messages. The renderers alone are tested in
test_ui_render.py."""
from __future__ import annotations

import csv
import io
from dataclasses import replace
from types import SimpleNamespace

import pytest

from rag.answer.plan import PlanMode
from rag.assistant import Event, EventKind
from rag.errors import EngineError
from rag.records import Answer, Citation, Claim, Hit, Paragraph, Report
from rag.web import html as ui_render
from rag.web.handlers import EXAMPLES, Turn, WebApp

SCRIPT = "<script>alert('x')</script>"


def make_report(rid: str, authority: str, texts: list[str]) -> Report:
    paragraphs = tuple(Paragraph(id=f"{rid}:{i:08x}", report=rid, ordinal=i, text=t, original=t,
                                 headings=(f"Section {SCRIPT}",), number=str(i + 1), page=i + 1)
                       for i, t in enumerate(texts))
    return Report(id=rid, file=f"{rid}.txt", sha256="0" * 64, title=f"{authority} report", authority=authority,
                  report_type="ofsted_sif", date="2015-06-01", year=2015, paragraphs=paragraphs)


def hits_of(report: Report) -> list[Hit]:
    return [Hit(p, report, 1.0 / (i + 1)) for i, p in enumerate(report.paragraphs)]


@pytest.fixture(scope="module")
def web(assistant, default_settings, tmp_path_factory):
    return WebApp(default_settings, assistant, export_dir=tmp_path_factory.mktemp("exports"))


# ---- a fake Assistant, where the real one is beside the point ----------------------------------------------

def _hostile_answer() -> Answer:
    report = make_report("evil-2015", authority=f"Evil {SCRIPT}", texts=[f"Children are safe. {SCRIPT} said so."])
    paragraph = report.paragraphs[0]
    citation = Citation(1, paragraph, report, "Children are safe.")
    claims = (Claim("Children are safe.", (1,), True), Claim("All is perfect.", (), False, "no passage supports it"))
    return Answer(question="q", text="Children are safe [1]. All is perfect. [unverified]", abstained=False,
                  citations=(citation,), claims=claims, engine="fake",
                  table=(("Aspect", "Evil"), ("Safety", "Safe [1].")))


class FakeAssistant:
    """Records what it was asked; answers with a fixed plan and answer (or raises `error`)."""
    engine = "fake"
    engine_note = "A fake engine for tests."

    def __init__(self, answer: Answer | None = None, error: Exception | None = None):
        self.answer = answer or _hostile_answer()
        self.error = error
        self.calls: list[dict] = []
        self.report = self.answer.citations[0].report

    def stream(self, question, history=(), *, authorities=None, year=None, engine=None):
        self.calls.append({"question": question, "history": list(history), "authorities": authorities, "year": year})
        hits = hits_of(self.report)
        plan = SimpleNamespace(mode=PlanMode.SINGLE, engine_writes=True,
                               groups=(SimpleNamespace(passages=(SimpleNamespace(hit=hits[0]),)),),
                               result=SimpleNamespace(hits=tuple(hits)))
        yield Event(EventKind.PLAN, plan=plan)
        if self.error:
            raise self.error
        yield Event(EventKind.TOKEN, text="Children are safe [1].")
        yield Event(EventKind.ANSWER, answer=self.answer)

    def ask(self, question, history=(), **options):
        return [e.answer for e in self.stream(question, history, **options) if e.kind == EventKind.ANSWER][0]

    def reports(self):
        return [self.report]


def _fake_web(tmp_path, **kw) -> tuple[WebApp, FakeAssistant]:
    fake = FakeAssistant(**kw)
    return WebApp(SimpleNamespace(), fake, export_dir=tmp_path), fake


# ---- chat --------------------------------------------------------------------------------------------------

def test_chat_streams_question_then_evidence_then_cited_answer(web):
    views = list(web.chat(EXAMPLES[0], ()))
    first, last = views[0], views[-1]
    assert first.messages[-2]["role"] == "user" and "Searching" in first.messages[-1]["content"]
    evidence = next(i for i, v in enumerate(views) if v.sources and "sources evidence" in v.sources)
    assert evidence < len(views) - 1, "the evidence must be shown before the answer is finished"
    assert "source-card" in views[evidence].sources
    assert len(last.turns) == 1 and last.turns[0].question == EXAMPLES[0]
    answer = last.turns[0].answer
    assert answer.citations and all(c.verified for c in answer.claims)
    assert 'class="cite"' in last.messages[-1]["content"]
    # One card per citation, each with the quote highlighted and a button to open it in context.
    assert last.sources.count('class="source-card"') == len(answer.citations)
    assert "<mark>" in last.sources and f'data-paragraph="{answer.citations[0].paragraph.id}"' in last.sources


def test_each_answer_keeps_its_own_sources_reachable(web):
    first = list(web.chat(EXAMPLES[0], ()))[-1]
    second = list(web.chat(EXAMPLES[1], first.turns))[-1]
    one, two = (t.answer for t in second.turns)
    # Each answer's marks point at its own cards: the latest shown, the earlier folded below them.
    assert 'href="#source-1-1"' in second.messages[1]["content"]
    assert 'href="#source-2-1"' in second.messages[3]["content"]
    latest, folded = second.sources.split('<details class="earlier-sources">', 1)
    assert latest.count('class="source-card"') == len(two.citations) and 'id="source-2-1"' in latest
    assert folded.count('class="source-card"') == len(one.citations) and 'id="source-1-1"' in folded
    assert f'data-paragraph="{one.citations[0].paragraph.id}"' in folded and EXAMPLES[0][:40] in folded


@pytest.mark.parametrize("question", EXAMPLES)
def test_each_example_question_answers_with_verified_citations(assistant, question):
    answer = assistant.ask(question)
    assert not answer.abstained and answer.citations
    assert answer.claims and all(c.verified for c in answer.claims), [c for c in answer.claims if not c.verified]


def test_a_follow_up_sends_the_earlier_turns_as_history(tmp_path):
    web, fake = _fake_web(tmp_path)
    first = list(web.chat("Is it safe?", ()))[-1]
    list(web.chat("And why?", first.turns))
    assert fake.calls[1]["history"] == [{"role": "user", "content": "Is it safe?"},
                                        {"role": "assistant", "content": fake.answer.text}]


def test_filters_pass_through_to_the_assistant(tmp_path):
    web, fake = _fake_web(tmp_path)
    list(web.chat("Q?", (), ["Hillingdon", "Wandsworth"], "", "2015"))
    assert fake.calls[-1]["authorities"] == ["Hillingdon", "Wandsworth"] and fake.calls[-1]["year"] == 2015
    list(web.chat("Q?", (), [], "", ""))
    assert fake.calls[-1]["authorities"] is None and fake.calls[-1]["year"] is None
    # A chosen report means its authority and its year, whatever else is chosen.
    list(web.chat("Q?", (), ["Hillingdon"], fake.report.id, ""))
    assert fake.calls[-1]["authorities"] == [fake.report.authority] and fake.calls[-1]["year"] == 2015


def test_a_year_that_is_not_a_year_is_a_message(tmp_path):
    web, fake = _fake_web(tmp_path)
    last = list(web.chat("Q?", (), [], "", "last year"))[-1]
    assert "must be a year such as 2015" in last.status and not fake.calls


def test_filter_choices_come_from_the_corpus(web):
    assert web.authorities() == ["Hammersmith and Fulham", "Hillingdon", "Wandsworth", "Windsor and Maidenhead"]
    assert ("Any year", "") in web.year_options() and ("2013", "2013") in web.year_options()
    assert {value for _, value in web.report_options()} >= {"", "wandsworth-2015", "hillingdon-2017"}


def test_an_empty_question_asks_for_one_without_calling_the_engine(tmp_path):
    web, fake = _fake_web(tmp_path)
    (view,) = list(web.chat("   ", ()))
    assert "Type a question" in view.status and not fake.calls and view.sources is None


@pytest.mark.parametrize("error, shown", [(EngineError("The Ollama server did not answer."), "did not answer"),
                                          (KeyError("boom"), "server log")])
def test_a_failing_engine_becomes_a_message_not_a_crash(tmp_path, error, shown):
    web, _ = _fake_web(tmp_path, error=error)
    last = list(web.chat("Q?", ()))[-1]
    assert shown in last.messages[-1]["content"] and shown in last.status
    assert last.turns == () and "Traceback" not in last.status


def test_report_and_user_text_are_escaped_everywhere(tmp_path):
    web, _ = _fake_web(tmp_path)
    last = list(web.chat(f"Is {SCRIPT} safe? {{{{value}}}} ${{1+1}}", ()))[-1]
    answer = last.turns[0].answer
    cited = answer.citations[0]
    shown = [m["content"] for m in last.messages] + [
        last.sources, ui_render.table_html(answer.table, answer.citations), ui_render.reports_table([cited.report]),
        ui_render.context_html(cited.paragraph, cited.report, [cited.paragraph], cited.quote),
        ui_render.evidence_cards(hits_of(cited.report))]
    for html in shown:
        assert "<script" not in html and "{{" not in html and "${" not in html
    assert "&#60;script&#62;" in last.messages[0]["content"]          # shown as text, not dropped
    assert "&#60;script&#62;" in last.sources


def test_unverified_claims_are_marked_visibly(tmp_path):
    web, _ = _fake_web(tmp_path)
    last = list(web.chat("Q?", ()))[-1]
    assert '<span class="unverified"' in last.messages[-1]["content"]
    assert "[unverified]" not in last.messages[-1]["content"]
    assert "1 of 2 claims verified" in last.sources


# ---- compare, judgements, context ---------------------------------------------------------------------------

def test_compare_builds_a_side_by_side_table_with_cited_cells(web):
    views = list(web.compare(["Wandsworth", "Windsor and Maidenhead"], "adoption"))
    assert "sources evidence" in views[0].sources                 # the evidence first, then the cards
    assert "sources evidence" not in views[-1].sources
    last = views[-1]
    assert last.answer is not None and last.answer.table[0][1:] == ("Wandsworth", "Windsor and Maidenhead")
    assert "<th>Wandsworth</th>" in last.table and "<th>Windsor and Maidenhead</th>" in last.table
    assert last.table.count('<sup class="cite"') >= 2
    assert last.sources.count('class="source-card"') == len(last.answer.citations)


@pytest.mark.parametrize("authorities, topic, shown", [(["Wandsworth"], "adoption", "two or more"),
                                                       (["Wandsworth", "Hillingdon"], "  ", "Type a topic")])
def test_compare_explains_what_is_missing(web, authorities, topic, shown):
    (view,) = list(web.compare(authorities, topic))
    assert shown in view.status and view.answer is None


def test_judgements_grid_has_every_grade_coloured_and_linked(web, assistant):
    html = web.judgements()
    rows = assistant.judgements()
    assert html.count("<button class=\"grade grade-") == len(rows)
    for j in rows:
        assert f'data-paragraph="{j.paragraph_id}"' in html
    for css in ("grade-good", "grade-ri", "grade-inadequate", "grade-outstanding"):
        assert css in html
    assert "<th>Wandsworth 2015</th>" in html and "Adoption performance" in html


def test_a_paragraph_opens_in_context(web, assistant):
    judgement = assistant.judgements("Wandsworth")[0]
    html = web.open_paragraph(judgement.paragraph_id)
    paragraph, report = assistant.paragraph(judgement.paragraph_id)
    assert html.count('class="context-para') == len(assistant.context(judgement.paragraph_id, 2))
    assert 'class="context-para target"' in html and "Heading path:" in html
    assert ui_render.escape(paragraph.headings[0]) in html and "Wandsworth" in html


def test_an_unknown_paragraph_is_a_message(web):
    assert "No paragraph" in web.open_paragraph("nowhere:123") and "status-error" in web.open_paragraph("x:y")
    assert "Click" in web.open_paragraph(None)


# ---- exports -----------------------------------------------------------------------------------------------

def test_conversation_exports_as_markdown_with_references(tmp_path):
    web, fake = _fake_web(tmp_path)
    turns = list(web.chat("Is it safe?", ()))[-1].turns
    text = web.export_conversation(turns).read_text()
    assert text.startswith("# Conversation") and "## 1. Is it safe?" in text
    assert "References:" in text and "[1] Evil" in text and "> Children are safe." in text
    assert f"id {fake.report.paragraphs[0].id}" in text and "| Aspect | Evil |" in text
    assert web.export_conversation(()) is None


def test_comparison_exports_as_csv_with_its_references(tmp_path):
    web, fake = _fake_web(tmp_path)
    rows = list(csv.reader(io.StringIO(web.export_table(fake.answer).read_text())))
    assert rows[0] == ["Aspect", "Evil"] and rows[1] == ["Safety", "Safe [1]."]
    assert rows[3][0] == "key" and rows[4][0] == "[1]" and rows[4][-1] == "Children are safe."
    assert web.export_table(replace(fake.answer, table=())) is None and web.export_table(None) is None


def test_exports_of_two_sessions_do_not_overwrite_each_other(tmp_path):
    web, fake = _fake_web(tmp_path)
    turns = (Turn("Q?", fake.answer),)
    assert web.export_conversation(turns) != web.export_conversation(turns)


# ---- serving -----------------------------------------------------------------------------------------------



@pytest.mark.slow
def test_a_fresh_install_builds_its_index_before_serving(default_settings, tmp_path):
    from rag.assistant import Assistant
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "barnet.md").write_text("# Barnet: Inspection of services for children in need of help and protection\n\n"
                                      "Inspection dates: 1 March 2016 to 24 March 2016.\n\n## Summary\n\n"
                                      "The Family Hub in Barnet helps families early, before problems escalate.\n")
    settings = default_settings.replace(corpus=corpus, index=tmp_path / "index")
    web = WebApp(settings, Assistant(settings, engine="extractive"), export_dir=tmp_path)
    web.warm()
    assert web.authorities() == ["Barnet"]
    assert web.assistant.ask("What does the Family Hub in Barnet do?").citations


def test_a_missing_index_and_no_corpus_is_a_clear_error(default_settings, tmp_path):
    from rag.assistant import Assistant
    from rag.errors import IndexMissing
    settings = default_settings.replace(corpus=tmp_path / "none", index=tmp_path / "index")
    with pytest.raises(IndexMissing, match="rag ingest"):
        WebApp(settings, Assistant(settings, engine="extractive"), export_dir=tmp_path).warm()


def test_a_busy_port_is_a_message_before_any_model_loads(tmp_path, monkeypatch):
    import socket

    from rag.errors import ConfigError
    from rag.settings import Settings
    from rag.web import server
    monkeypatch.setattr(server.WebApp, "warm", lambda *a, **k: pytest.fail("warmed up for a port it cannot use"))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = Settings(corpus=tmp_path, index=tmp_path / "index", llm="extractive", port=port)
        with pytest.raises(ConfigError, match=rf"Cannot serve on 127.0.0.1:{port} .*set RAG_PORT"):
            server.serve(settings)


def test_the_landing_line_says_what_is_loaded_and_how_to_add_more(web, assistant):
    line = web.corpus_line()
    reports = assistant.reports()
    assert f"<b>{len(reports)}</b> reports of <b>{len({r.authority for r in reports})}</b> authorities" in line
    assert "Add reports" in line and "rag ingest" in line
