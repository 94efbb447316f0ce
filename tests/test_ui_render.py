"""HTML and exports for the web app, without Gradio: escaping, citation keys, highlighted quotes, the
judgements grid, CSV/Markdown exports and upload messages."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from rag.ingest.upload import RejectedUpload, StoredUpload
from rag.records import REPORT_SILENT, Answer, Citation, Claim, Judgement, Report
from rag.web import html as ui_render
from tests.helpers import make_report

SCRIPT = "<script>alert('x')</script>"
REPORT = make_report("testshire-2015", "Testshire", ["Children are seen within a day of referral. Most are safe.",
                                                     "Care leavers have a personal adviser."])
OTHER = make_report("otherton-2011", "Otherton", ["Adoption is good.", "Leaders are weak."],
                    report_type="ofsted_slac", date="2011-03-01")


def _citation(n: int, report: Report = REPORT, i: int = 0,
              quote: str = "Children are seen within a day of referral.") -> Citation:
    return Citation(n, report.paragraphs[i], report, quote)


# ---- escaping ----------------------------------------------------------------------------------------------

def test_escape_neutralises_html_markdown_and_templates():
    assert ui_render.escape('<b a="1">{{x}} ${y} *z* `c`') == \
        "&#60;b a=&#34;1&#34;&#62;&#123;&#123;x&#125;&#125; &#36;&#123;y&#125; &#42;z&#42; &#96;c&#96;"


@pytest.mark.parametrize("text", [SCRIPT, "{{value}}", "${1+1}", "[link](javascript:x)", "a | b"])
def test_escaped_text_has_no_active_characters(text):
    shown = ui_render.escape(text)
    assert not set(shown) & set("<>{}$[]|`\"")
    assert shown.replace("&#", "").replace(";", "").isprintable()


def test_escape_keeps_plain_text_and_treats_none_as_empty():
    assert ui_render.escape("Children's services, 2015: good.") == "Children's services, 2015: good."
    assert ui_render.escape(None) == "" and ui_render.escape(12) == "12"


# ---- answers -----------------------------------------------------------------------------------------------

def test_cited_text_links_keys_and_keeps_punctuation_tight():
    html = ui_render.cited_text("Good [1]. Bad [2, 3].")
    assert html == ('Good<sup class="cite"><a href="#source-1">[1]</a></sup>. Bad<sup class="cite">'
                    '<a href="#source-2">[2]</a></sup><sup class="cite"><a href="#source-3">[3]</a></sup>.')


def test_cited_text_names_the_source_of_given_citations_only():
    html = ui_render.cited_text("Seen quickly [1]; safe [2].", [_citation(1)])
    assert '<sup class="cite" title="Testshire 2015 para 1 p. 1"><a href="#source-1">[1]</a></sup>' in html
    assert '<sup class="cite">[2]</sup>' in html        # no citation 2: no source named, no link to a missing card
    assert html.count("title=") == 1


def test_cited_text_escapes_everything_else():
    html = ui_render.cited_text(f"{SCRIPT} {{{{x}}}} ${{y}} [1] [123] [a]\nnext line", [_citation(1)])
    assert "<script" not in html and "{{" not in html and "${" not in html
    assert "&#60;script&#62;" in html and "&#91;123&#93;" in html and "&#91;a&#93;" in html
    assert html.endswith("<br>next line") and html.count("<sup") == 1


def test_cited_text_without_links_and_with_an_unverified_badge():
    html = ui_render.cited_text("Fine [1]. Made up. [unverified]", link=False)
    assert html == ('Fine<sup class="cite">[1]</sup>. Made up. <span class="unverified" '
                    f'title="{ui_render.UNVERIFIED_TITLE}">unverified</span>')


def test_answer_message_says_how_much_was_verified():
    answer = Answer("q", "Seen quickly [1]. Made up. [unverified]", False, citations=(_citation(1),),
                    claims=(Claim("Seen quickly [1].", (1,), True), Claim("Made up.", (), False)),
                    engine="local", seconds=2.04)
    html = ui_render.answer_message(answer)
    assert 'href="#source-1"' in html and '<sup class="cite"' in html     # marks scroll to their card
    assert html.endswith('">local engine · 1 of 2 claims verified (1 unverified) · 2.0 s</span>')
    assert f'<span class="answer-facts" title="{ui_render.escape(ui_render.CHECKED_TITLE)}">' in html   # what was checked


def test_quote_is_highlighted_inside_its_paragraph():
    assert ui_render.highlighted("One. Two <b>. Three.", "Two <b>.") == "One. <mark>Two &#60;b&#62;.</mark> Three."
    assert ui_render.highlighted("One.", "Missing.") == "One."


def test_highlighted_escapes_around_the_mark_and_without_a_quote():
    assert ui_render.highlighted(f"{SCRIPT} Safe.", "Safe.") == \
        "&#60;script&#62;alert('x')&#60;/script&#62; <mark>Safe.</mark>"
    assert ui_render.highlighted("A {b}.", "") == "A &#123;b&#125;." and "<mark>" not in ui_render.highlighted("A", "")


def test_citation_cards_one_per_citation_with_the_quote_marked():
    answer = Answer("q", "x [1] [2]", False, citations=(_citation(1), _citation(2, OTHER, 1, "Leaders are weak.")),
                    claims=(Claim("x [1] [2]", (1, 2), True),))
    html = ui_render.citation_cards(answer)
    assert html.count('class="source-card"') == 2 and 'id="source-1"' in html and 'id="source-2"' in html
    assert "<mark>Children are seen within a day of referral.</mark> Most are safe." in html
    assert f'data-paragraph="{OTHER.paragraphs[1].id}"' in html and "1 of 1 claims verified" in html
    assert "nothing is cited" in ui_render.citation_cards(Answer("q", "No.", True))


def test_table_html_marks_silent_cells_and_links_keys():
    html = ui_render.table_html([("Aspect", "Testshire", "Otherton"), ("Adoption", "Good [1].", REPORT_SILENT)],
                                [_citation(1)])
    assert "<th>Testshire</th>" in html and '<th scope="row">Adoption</th>' in html
    assert '<td class="silent">' in html and '<a href="#source-1">[1]</a>' in html
    assert ui_render.table_html([]) == ""


# ---- the judgements grid -----------------------------------------------------------------------------------

def _grade(report, area: str, label: str, grade: str, i: int, **kw) -> Judgement:
    return Judgement(report.id, report.authority, report.date, area, label, grade, report.paragraphs[i].id, **kw)


def test_grade_classes():
    assert [ui_render.grade_class(g) for g in ("Requires improvement", "require improvement to be good",
                                                "inadequate", "adequate", "good", "outstanding", "n/a")] == \
        ["ri", "ri", "inadequate", "adequate", "good", "outstanding", "other"]


def test_judgements_grid_colours_each_grade_and_links_its_paragraph():
    judgements = [_grade(REPORT, "adoption_performance", "Adoption performance", "Requires improvement", 0),
                  _grade(REPORT, "overall_effectiveness", "Overall effectiveness", "good", 1),
                  _grade(OTHER, "adoption_performance", "Adoption", "inadequate", 0)]
    paragraphs = {p.id: p for r in (REPORT, OTHER) for p in r.paragraphs}
    html = ui_render.judgements_grid(judgements, paragraphs.__getitem__, {REPORT.id: REPORT, OTHER.id: OTHER})
    buttons = [part.split(">", 1)[0] for part in html.split("<button")[1:]]
    assert len(buttons) == 3
    for j in judgements:
        assert sum(f'data-paragraph="{j.paragraph_id}"' in b for b in buttons) == 1
    assert 'class="grade grade-ri" data-paragraph="testshire-2015:00000000"' in html
    assert 'class="grade grade-good" data-paragraph="testshire-2015:00000001"' in html
    assert 'class="grade grade-inadequate" data-paragraph="otherton-2011:00000000"' in html
    # Columns by authority; areas in the framework's order; a dash where a report states no grade.
    assert html.index("<th>Otherton 2011</th>") < html.index("<th>Testshire 2015</th>")
    assert html.index(">Overall effectiveness</th>") < html.index(">Adoption performance</th>")
    overall_row = html.split(">Overall effectiveness</th>")[1].split("</tr>")[0]
    assert overall_row.startswith("<td>–</td><td><button")
    assert 'title="Adoption performance: Requires improvement (para 1, page 1)"' in html


def test_judgements_grid_escapes_report_text():
    hostile = make_report("evil-2015", f"Evil {SCRIPT}", ["Good."])
    j = _grade(hostile, "care_leavers", f"Care {SCRIPT}", f"good {SCRIPT}", 0)
    html = ui_render.judgements_grid([j], lambda pid: hostile.paragraphs[0], {hostile.id: hostile})
    assert "<script" not in html and "Evil &#60;script&#62;" in html


def test_judgements_grid_without_judgements():
    assert "No graded judgements" in ui_render.judgements_grid([], lambda pid: None, {})


def test_slac_grades_show_their_service():
    j = Judgement("r", "A", "2011", "overall_effectiveness", "Safeguarding services: Overall effectiveness", "good",
                  "p", framework="slac", service="safeguarding", grade_number=2)
    html = ui_render.judgements_grid([j], lambda pid: OTHER.paragraphs[0], {})
    assert "Safeguarding: good (2)" in html and "Overall effectiveness" in html


# ---- exports -----------------------------------------------------------------------------------------------

def test_table_csv_has_the_table_then_one_row_per_citation():
    rows = list(csv.reader(io.StringIO(ui_render.table_csv(
        [("Aspect", "Testshire"), ("Speed", "Fast [1], mostly.")], [_citation(1)]))))
    assert rows[:2] == [["Aspect", "Testshire"], ["Speed", "Fast [1], mostly."]]
    assert rows[2] == []
    assert rows[3] == ["key", "authority", "report", "date", "section", "paragraph", "page", "paragraph id", "quote"]
    assert rows[4] == ["[1]", "Testshire", "Testshire report", "2015-06-01", "Section", "1", "1",
                       "testshire-2015:00000000", "Children are seen within a day of referral."]
    assert list(csv.reader(io.StringIO(ui_render.table_csv([("a", "b")])))) == [["a", "b"]]


def test_conversation_markdown_has_each_turn_with_its_references():
    first = Answer("How fast?", "Seen within a day [1].", False, citations=(_citation(1),),
                   claims=(Claim("Seen within a day [1].", (1,), True),), engine="local",
                   table=(("Aspect", "A | B"), ("Speed", "Fast\nreally")))
    second = Answer("And leavers?", "The reports in the corpus do not say.", True)
    text = ui_render.conversation_markdown([("How fast?", first), ("And leavers?", second)])
    assert text.startswith("# Conversation about the inspection reports\n\n## 1. How fast?\n\nSeen within a day [1].")
    assert "| Aspect | A \\| B |\n|---|---|\n| Speed | Fast really |" in text
    assert ("[1] Testshire · Testshire report · 2015-06-01 · Section: Section · paragraph 1 · page 1 · "
            "id testshire-2015:00000000\n    > Children are seen within a day of referral.") in text
    assert "_1 of 1 claims verified; engine: local._" in text
    tail = text.split("## 2. And leavers?")[1]
    assert "References" not in tail and "claims verified" not in tail and text.endswith("do not say.\n")


# ---- uploads -----------------------------------------------------------------------------------------------

def test_upload_message_lists_added_and_rejected_files():
    stored = [StoredUpload("Barnet <2016>.pdf", Path("/c/Barnet-2016-1.pdf"), True, "Barnet", "Barnet inspection"),
              StoredUpload("x.txt", Path("/c/x.txt"), False, None, "Untitled")]
    rejected = [RejectedUpload("big.pdf", "big.pdf is 80 MB; the limit is 50 MB.")]
    html = ui_render.upload_message(stored, rejected)
    assert html.count('<li class="added">') == 2 and html.count('<li class="rejected">') == 1
    assert "Added <b>Barnet &#60;2016&#62;.pdf</b> as Barnet-2016-1.pdf (a file of that name was already there" in html
    assert "x.txt</b> as x.txt: authority not recognised — Untitled." in html
    assert "Not added: big.pdf is 80 MB; the limit is 50 MB." in html and "The index is updated" in html


def test_upload_message_with_only_rejections_or_nothing():
    html = ui_render.upload_message([], [RejectedUpload("a.exe", "a.exe is not a report format.")])
    assert "Not added" in html and "The index is updated" not in html
    assert ui_render.upload_message([], []) == ""
