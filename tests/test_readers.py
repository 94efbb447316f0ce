"""Readers: each format becomes source lines, and through parse_report a Report with the right paragraphs,
headings and pages. The PDF, DOCX and HTML files are generated here from text."""
from __future__ import annotations

from pathlib import Path

import docx
import pymupdf
import pytest

from rag.errors import EmptyReport, UnreadableReport, UnsupportedFormat
from rag.ingest.corpus import parse_report
from rag.ingest.readers import decode_text, read_source

HELP = ("Social workers visit children regularly and record their views in the case file. Managers check the quality "
        "of assessments every month, and Independent Reviewing Officers challenge drift when plans stall.")
LEAVERS = ("Care leavers live in suitable accommodation. Personal Advisers keep in touch with them and help them into "
           "education, employment or training, and the multi-agency panel reviews every young person who is not "
           "in education at least once a term.")


def make_pdf(path: Path, pages: list[tuple[str | None, str]], running_header: str = "Ofsted") -> Path:
    """A heading (or none) and one wrapped paragraph per page, a running header and a printed page number."""
    doc = pymupdf.open()
    for number, (heading, body) in enumerate(pages, start=1):
        page = doc.new_page()
        page.insert_text((72, 40), running_header, fontsize=9)
        if heading:
            page.insert_textbox(pymupdf.Rect(72, 60, 520, 90), heading, fontsize=14)
        page.insert_textbox(pymupdf.Rect(72, 100, 400, 400), body, fontsize=11)   # narrow: wraps over lines
        page.insert_text((300, 800), str(number), fontsize=9)
    doc.save(path)
    return path


def by_text(report, start: str):
    found = [p for p in report.paragraphs if p.text.startswith(start)]
    assert len(found) == 1, [p.text[:60] for p in report.paragraphs]
    return found[0]


# ---- PDF ----------------------------------------------------------------------------------------

def test_pdf_pages_headings_and_wrapped_lines(tmp_path):
    path = make_pdf(tmp_path / "report.pdf", [("Help and protection", HELP), ("Care leavers", LEAVERS)])
    lines = read_source(path)
    assert {line.page for line in lines} == {1, 2}
    assert sum(line.continues for line in lines) >= 2        # the body wrapped within its text block

    report = parse_report(path)
    assert [p.text for p in report.paragraphs] == [HELP, LEAVERS]   # wrapped lines joined, nothing else kept
    help_, leavers = report.paragraphs
    assert (help_.page, help_.headings) == (1, ("Help and protection",))
    assert (leavers.page, leavers.headings) == (2, ("Care leavers",))
    assert "\n" in help_.original                           # the source lines, as printed


def test_pdf_printed_page_numbers_and_running_header_are_not_text(tmp_path):
    bodies = [HELP, LEAVERS, "The local safeguarding children board understands the needs of the borough "
                             "and holds partners to account for their work."]
    path = make_pdf(tmp_path / "report.pdf", [("Part 1", bodies[0]), (None, bodies[1]), ("Part 2", bodies[2])])
    report = parse_report(path)
    assert [p.page for p in report.paragraphs] == [1, 2, 3]
    # Page 2 has no heading of its own: its paragraph stays in Part 1 (the printed '1' is not a heading).
    assert [p.headings for p in report.paragraphs] == [("Part 1",), ("Part 1",), ("Part 2",)]
    for p in report.paragraphs:
        assert "Ofsted" not in p.text and not p.text[:1].isdigit()


def test_pdf_line_break_hyphenation_repaired_but_real_hyphen_kept(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Leaders know the organisation well and the multi-\nagency partnership holds the "
                               "whole organisa-\ntion to account for its work with children.", fontsize=11)
    doc.save(tmp_path / "hyphen.pdf")
    [paragraph] = parse_report(tmp_path / "hyphen.pdf").paragraphs
    assert paragraph.text == ("Leaders know the organisation well and the multi-agency partnership holds the whole "
                              "organisation to account for its work with children.")


def test_pdf_without_text_layer_asks_for_ocr(tmp_path):
    doc = pymupdf.open()
    doc.new_page().draw_rect(pymupdf.Rect(50, 50, 300, 300), color=(0, 0, 0), fill=(0.5, 0.5, 0.5))
    doc.save(tmp_path / "scan.pdf")
    with pytest.raises(EmptyReport, match="no text layer.*OCR"):
        read_source(tmp_path / "scan.pdf")


def test_broken_pdf_is_unreadable(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a PDF\n")
    with pytest.raises(UnreadableReport, match="broken.pdf: not a readable PDF"):
        read_source(tmp_path / "broken.pdf")


# ---- DOCX ---------------------------------------------------------------------------------------

def test_docx_headings_list_items_with_lead_in_and_table(tmp_path):
    document = docx.Document()
    document.add_heading("Inspection of Sometown children's services", level=1)
    document.add_heading("Children who need help and protection", level=2)
    document.add_paragraph(HELP)
    document.add_paragraph("Inspectors found that the local authority:")
    document.add_paragraph("responds quickly when children are at risk of harm", style="List Bullet")
    document.add_paragraph("holds strategy discussions with all relevant partners", style="List Bullet")
    table = document.add_table(rows=4, cols=2)
    rows = [("Area", "Finding"), ("Early help", "Well targeted"), ("Thresholds", "Understood"),
            ("Private fostering", "Not visited on time")]
    for i, (left, right) in enumerate(rows):
        table.cell(i, 0).text, table.cell(i, 1).text = left, right
    document.add_heading("Care leavers", level=2)
    document.add_paragraph(LEAVERS)
    document.save(tmp_path / "report.docx")

    report = parse_report(tmp_path / "report.docx")
    assert [p.kind for p in report.paragraphs] == ["paragraph", "paragraph", "bullet", "bullet", "table", "paragraph"]
    help_, lead, first, second, grid, leavers = report.paragraphs
    assert help_.text == HELP and help_.headings == ("Children who need help and protection",)
    assert first.text == "responds quickly when children are at risk of harm"
    assert first.lead_in == second.lead_in == lead.text == "Inspectors found that the local authority:"
    assert grid.text == "Area | Finding\nEarly help | Well targeted\nThresholds | Understood\n" \
                        "Private fostering | Not visited on time"
    assert leavers.headings == ("Care leavers",) and leavers.page is None    # DOCX has no fixed pages


def test_docx_merged_cells_are_read_once(tmp_path):
    document = docx.Document()
    document.add_paragraph("Record of main findings for the looked after children service in the borough.")
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Services for looked after children"
    table.cell(1, 0).text, table.cell(1, 1).text, table.cell(1, 2).text = "Being healthy", "Grade 1", "Outstanding"
    document.save(tmp_path / "merged.docx")
    grid = next(p for p in parse_report(tmp_path / "merged.docx").paragraphs if p.kind == "table")
    assert grid.text == "Services for looked after children\nBeing healthy | Grade 1 | Outstanding"


def test_broken_docx_is_unreadable(tmp_path):
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not a zip archive at all")
    with pytest.raises(UnreadableReport, match="broken.docx: not a readable Word document"):
        read_source(tmp_path / "broken.docx")


# ---- HTML ---------------------------------------------------------------------------------------

HTML = """<!doctype html><html><head><title>Sometown</title>
<script>var grade = "Inadequate";</script><style>p { color: red }</style></head>
<body><nav>Home | Reports | Contact</nav>
<h1>Inspection of Sometown children's services</h1>
<h2>Children looked after</h2>
<p>Most children live close to home with carers who meet their needs.
   Reviews are held on time.</p>
<p>The local authority has improved because:</p>
<ul><li>placements are more stable than last year</li><li><p>children see their social worker alone</p></li></ul>
<table><tr><th>Area</th><th>Finding</th></tr><tr><td>Stability</td><td>Improving</td></tr>
<tr><td>Visits</td><td>On time</td></tr><tr><td>Health checks</td><td>Mostly on time</td></tr></table>
<h2>Care leavers</h2><p>Care leavers live in suitable accommodation and their Personal Advisers keep in touch.</p>
<script>document.write("Requires improvement")</script></body></html>"""


def test_html_headings_list_table_and_scripts_dropped(tmp_path):
    (tmp_path / "report.html").write_text(HTML, encoding="utf-8")
    report = parse_report(tmp_path / "report.html")
    texts = [p.text for p in report.paragraphs]
    assert texts == [
        "Most children live close to home with carers who meet their needs. Reviews are held on time.",
        "The local authority has improved because:",
        "placements are more stable than last year",
        "children see their social worker alone",           # a <p> inside an <li> is read once
        "Area | Finding\nStability | Improving\nVisits | On time\nHealth checks | Mostly on time",
        "Care leavers live in suitable accommodation and their Personal Advisers keep in touch.",
    ]
    assert [p.kind for p in report.paragraphs] == ["paragraph", "paragraph", "bullet", "bullet", "table", "paragraph"]
    assert report.paragraphs[2].lead_in == "The local authority has improved because:"
    assert report.paragraphs[0].headings == ("Children looked after",)
    assert report.paragraphs[-1].headings == ("Care leavers",)
    joined = " ".join(texts)
    assert "Inadequate" not in joined and "Requires improvement" not in joined and "Contact" not in joined


def test_html_without_block_markup_is_read_as_plain_text(tmp_path):
    (tmp_path / "bare.htm").write_text("<html><body>Children are seen alone by their social workers.<br>"
                                       "Plans are reviewed on time.</body></html>", encoding="utf-8")
    report = parse_report(tmp_path / "bare.htm")
    assert " ".join(p.text for p in report.paragraphs) == \
        "Children are seen alone by their social workers. Plans are reviewed on time."


# ---- text, encodings and refusals ---------------------------------------------------------------

def test_text_with_form_feeds_marks_page_breaks(tmp_path):
    (tmp_path / "report.txt").write_text("First page text about early help services for families.\n1\n\f"
                                         "Second page text about children looked after by the council.\n2\n",
                                         encoding="utf-8")
    report = parse_report(tmp_path / "report.txt")
    assert [(p.text[:11], p.page) for p in report.paragraphs] == [("First page ", 1), ("Second page", 2)]


def test_decode_text_utf8_bom_and_windows_1252():
    assert decode_text("a.txt", "\ufeffChildren’s services".encode("utf-8")) == "Children’s services"
    assert decode_text("a.txt", "Children’s services – 17½".encode("cp1252")) == "Children’s services – 17½"


def test_decode_text_refuses_binary_and_undecodable_bytes():
    with pytest.raises(UnreadableReport, match="a.bin: looks like a binary file"):
        decode_text("a.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    # 0x81, 0x8d, 0x8f, 0x90 and 0x9d are undefined in Windows-1252 and invalid as UTF-8 here.
    with pytest.raises(UnreadableReport, match="neither UTF-8 nor Windows-1252; save it as UTF-8"):
        decode_text("a.txt", b"Report \x81\x8d\x8f\x90\x9d text")


def test_unsupported_and_empty_files_are_refused(tmp_path):
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "noext").write_text("Children in need.", encoding="utf-8")
    (tmp_path / "blank.md").write_text(" \n\n\t\n", encoding="utf-8")
    with pytest.raises(UnsupportedFormat, match=r"sheet.xlsx: unsupported file type '\.xlsx'; convert it to one of \.txt"):
        read_source(tmp_path / "sheet.xlsx")
    with pytest.raises(UnsupportedFormat, match=r"'\(none\)'"):
        read_source(tmp_path / "noext")
    with pytest.raises(EmptyReport, match=r"blank.md: the file is blank \(only whitespace\)"):
        read_source(tmp_path / "blank.md")


def test_pdf_paragraph_after_a_heading_in_the_same_block_stays_after_the_heading():
    # PyMuPDF can put a page-top continuation, the next section's heading and its first paragraph in one
    # block (Bexley 2023, p. 8); the paragraph must not join the continuation above the heading.
    from rag.ingest.pdf import _Line, _cells, _rows

    def line(y: float, text: str, x0: float = 99, bold: bool = False, size: float = 12) -> _Line:
        return _Line(8, 2, x0, y, 520, y + 14, text, size, bold)

    lines = [line(94, "providing a clear audit of decision-making for children."),
             line(108, "interim service."),
             line(253, "The experiences and progress of care leavers: outstanding", x0=71, bold=True, size=14),
             line(287, "41. Care leavers receive a remarkable level of support", x0=71),
             line(301, "until they become 25.")]
    order = [cell.text() for row in _rows(_cells(lines)) for cell in row]
    assert order == ["providing a clear audit of decision-making for children. interim service.",
                     "The experiences and progress of care leavers: outstanding",
                     "41. Care leavers receive a remarkable level of support until they become 25."]


def test_pdf_paragraph_numbers_in_the_gutter_of_a_page_that_opens_mid_paragraph():
    # A page that opens with the end of the paragraph begun on the page before, then '38.', '39.' alone in
    # the gutter beside their paragraphs, all one block (Cornwall 2019, p. 9): each number starts its own
    # paragraph; they must not gather at the end of one merged paragraph ('... agenda. 38. 39.').
    from rag.ingest.pdf import _Line, _cells, _rows

    def line(y: float, text: str, x0: float = 108, x1: float = 520) -> _Line:
        return _Line(9, 3, x0, y, x1, y + 14, text, 12, False)

    lines = [line(81, "agenda. Corporate parents place high value on outcomes."),
             line(110, "38.", x0=72, x1=88), line(110, "New commissioning arrangements for psychologists"),
             line(124, "mean that they provide consultations."),
             line(153, "39.", x0=72, x1=88), line(153, "Caseloads have significantly reduced and are"),
             line(167, "described by staff as being manageable.")]
    cells = [cell for row in _rows(_cells(lines)) for cell in row]
    assert [line.text for cell in cells for line in cell.lines] == [
        "agenda. Corporate parents place high value on outcomes.",
        "38. New commissioning arrangements for psychologists", "mean that they provide consultations.",
        "39. Caseloads have significantly reduced and are", "described by staff as being manageable."]


def test_pdf_gutter_numbers_beside_a_cell_that_reaches_into_the_gutter():
    # Southampton 2023 p. 3: '5.' .. '9.' alone in the gutter, then '10. Responses ...' set inline with its
    # number, so the text cell starts left of the gutter's right edge; each number still joins its line.
    from rag.ingest.pdf import _Line, _cells, _rows

    def line(y: float, text: str, x0: float = 113, x1: float = 520) -> _Line:
        return _Line(3, 2, x0, y, x1, y + 14, text, 12, False)

    lines = [line(94, "concerns are escalated quickly."),
             line(151, "5.", x0=85, x1=99), line(151, "Many children's situations are improved."),
             line(282, "6.", x0=85, x1=99), line(282, "Help offered to families is at the least"),
             line(296, "intrusive level."),
             line(675, "10. Responses to children who go missing are effective.", x0=85)]
    texts = [line.text for row in _rows(_cells(lines)) for cell in row for line in cell.lines]
    assert texts == ["concerns are escalated quickly.", "5. Many children's situations are improved.",
                     "6. Help offered to families is at the least", "intrusive level.",
                     "10. Responses to children who go missing are effective."]
