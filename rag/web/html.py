"""HTML for the web app: answers with their citation keys, source cards, tables, the judgements grid,
a paragraph in its context; and the exports (Markdown, CSV). No Gradio here, so all of it is testable.

Every piece of report or user text goes through `escape`, which turns each character that means
something to HTML, Markdown, LaTeX or a JS template ($, {, }) into a numeric entity: a report containing
<script> or {{value}} shows as text wherever it is drawn. The exports use rag.sanitize (Markdown text,
spreadsheet cells that cannot start a formula).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from rag.ofsted.grades import AREAS, GRADE_ORDER, SIF_AREAS
from rag.ofsted.table import GRID_HEADERS, GridRow
from rag.records import REPORT_SILENT, REPORT_TYPES, Answer, Citation, Hit, Judgement, Paragraph, Report
from rag.text.sanitize import csv_cell, markdown, without_controls

_SPECIAL = frozenset("&<>\"`$\\{}[]*_#|~")   # attributes are always double-quoted, so ' may stay
_TOKEN = re.compile(r"(\[\d{1,2}(?:\s*,\s*\d{1,2})*\])|( ?\[unverified\])")
UNVERIFIED_TITLE = "Not supported by the cited paragraph: check it before relying on it."


def escape(text: object) -> str:
    """Text -> safe to put in HTML (also inside attributes) and in Chatbot Markdown."""
    return "".join(f"&#{ord(c)};" if c in _SPECIAL else c for c in without_controls(text))


def _lines(html: str) -> str:
    return html.replace("\n", "<br>")


# ---- answers -----------------------------------------------------------------------------------------------

def source_anchor(key: int, turn: int | None = None) -> str:
    """The id of a source card: per answer in a conversation, so each answer's marks reach its own cards."""
    return f"source-{turn}-{key}" if turn else f"source-{key}"


def cited_text(text: str, citations: Sequence[Citation] = (), *, link: bool = True, turn: int | None = None) -> str:
    """An answer (or a table cell): [n] keys become superscripts (links to their card, of answer `turn`,
    when `link`), ' [unverified]' becomes a visible badge, everything else is escaped."""
    by_key = {c.n: c for c in citations}
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        before = text[position:match.start()]
        out.append(escape(before[:-1] if match.group(1) and before.endswith(" ") else before))
        if match.group(1):
            for key in (int(k) for k in re.findall(r"\d+", match.group(1))):
                cited = by_key.get(key)
                title = f' title="{escape(_short_where(cited))}"' if cited else ""
                mark = f'<a href="#{source_anchor(key, turn)}">[{key}]</a>' if link and (cited or not by_key) else f"[{key}]"
                out.append(f'<sup class="cite"{title}>{mark}</sup>')
        else:
            out.append(f' <span class="unverified" title="{escape(UNVERIFIED_TITLE)}">unverified</span>')
        position = match.end()
    out.append(escape(text[position:]))
    return _lines("".join(out))


# What "verified" means, in the words of the badge's tooltip.
CHECKED_TITLE = ("Each sentence was checked against the paragraph it cites: its words, numbers, dates and grades "
                 "are there, not negated, not said of something else, not overstated, and a grade is not an "
                 "earlier inspection's. A sentence that fails is marked unverified.")


def answer_message(answer: Answer, turn: int | None = None) -> str:
    """The chat bubble: the answer, then a line saying how much of it was checked and by which engine."""
    body = cited_text(answer.text, answer.citations, turn=turn)   # marks scroll to their card (follow_links.js)
    total, verified = len(answer.claims), answer.verified_claims
    facts = [f"{escape(answer.engine)} engine"] if answer.engine else []
    if total:
        state = "all verified" if verified == total else f"{total - verified} unverified"
        facts.append(f"{verified} of {total} claims verified ({state})")
    if answer.seconds:
        facts.append(f"{answer.seconds:.1f} s")
    footer = (f'<br><span class="answer-facts" title="{escape(CHECKED_TITLE)}">{" · ".join(facts)}</span>'
              if facts else "")
    return notice_html(answer.notice) + body + footer


def notice_html(notice: str) -> str:
    """Above an answer whose engine failed: why, and that the answer was extracted from the reports."""
    return f'<span class="engine-notice">{escape(notice)}</span><br>' if notice else ""


def user_message(question: str) -> str:
    return _lines(escape(question))


def error_message(text: str) -> str:
    return f'<span class="error">{escape(text)}</span>'


# ---- where a paragraph comes from ---------------------------------------------------------------------------

def report_heading(report: Report) -> str:
    kind = REPORT_TYPES.get(report.report_type, report.report_type)
    return f"{report.authority or 'Unknown authority'} · {report.title} · {kind}, {report.date or 'undated'}"


def _where_bits(paragraph: Paragraph) -> list[str]:
    bits = []
    if paragraph.section:
        bits.append(f"Section: {paragraph.section}")
    if paragraph.number:
        bits.append(f"paragraph {paragraph.number}")
    if paragraph.page:
        bits.append(f"page {paragraph.page}")
    return bits


def _short_where(c: Citation | None) -> str:
    if c is None:
        return ""
    bits = [c.report.authority or "?", str(c.report.year or "")]
    if c.paragraph.number:
        bits.append(f"para {c.paragraph.number}")
    if c.paragraph.page:
        bits.append(f"p. {c.paragraph.page}")
    return " ".join(b for b in bits if b)


def highlighted(paragraph_text: str, quote: str) -> str:
    """The paragraph with the quote marked inside it (or the paragraph alone if the quote is not in it)."""
    at = paragraph_text.find(quote) if quote else -1
    if at < 0:
        return escape(paragraph_text)
    end = at + len(quote)
    return f"{escape(paragraph_text[:at])}<mark>{escape(quote)}</mark>{escape(paragraph_text[end:])}"


def _open_button(paragraph_id: str) -> str:
    return (f'<button class="open-context" data-paragraph="{escape(paragraph_id)}" '
            f'title="Show this paragraph with its neighbours and heading path">Open in context</button>')


def _card(paragraph: Paragraph, report: Report, body: str, key: int | None = None, turn: int | None = None) -> str:
    label = f'<span class="key">[{key}]</span> ' if key is not None else ""
    anchor = f' id="{source_anchor(key, turn)}"' if key is not None else ""
    where = " · ".join(escape(b) for b in _where_bits(paragraph)) or "no section heading"
    return (f'<div class="source-card"{anchor} data-paragraph="{escape(paragraph.id)}">'
            f'<div class="card-head">{label}<b>{escape(report.authority or "Unknown authority")}</b> · '
            f'{escape(report.title)} · {escape(report.date or "undated")}</div>'
            f'<div class="card-meta">{where}</div>'
            f'<p class="card-text">{body}</p>{_open_button(paragraph.id)}</div>')


def citation_cards(answer: Answer, turn: int | None = None,
                   earlier: Sequence[tuple[int, str, Answer]] = ()) -> str:
    """The sources panel after an answer: one card per citation, quote highlighted in its paragraph; then,
    folded, the cards of the `earlier` answers of the conversation (turn, question, answer), latest first,
    so every answer's marks still reach their own cards."""
    folded = "".join(
        f'<details class="earlier-sources"><summary>Sources of answer {n}: {escape(_shorten(question, 80))}'
        f'</summary>{_cards(previous, n)}</details>' for n, question, previous in reversed(earlier))
    return f'<div class="sources">{_cards(answer, turn)}{folded}</div>'


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _cards(answer: Answer, turn: int | None) -> str:
    parts = []
    if answer.table and len(answer.table) > 1:
        parts.append(table_html(answer.table, answer.citations, turn))
    if answer.citations:
        total, verified = len(answer.claims), answer.verified_claims
        summary = f"{verified} of {total} claims verified against their cited paragraphs"
        if verified < total:
            summary += '; claims marked <span class="unverified">unverified</span> are not supported by them'
        parts.append(f'<div class="sources-summary">Sources ({len(answer.citations)}). {summary}.</div>')
        parts.extend(_card(c.paragraph, c.report, highlighted(c.paragraph.text, c.quote), c.n, turn)
                     for c in answer.citations)
    else:
        parts.append('<div class="sources-summary">No paragraph supports an answer, so nothing is cited.</div>')
    return "".join(parts)


def evidence_cards(hits: Sequence[Hit], note: str = "Evidence found; the answer is being written.") -> str:
    """The sources panel the moment retrieval is done, before the engine has finished."""
    if not hits:
        return '<div class="sources"><div class="sources-summary">No paragraph matched.</div></div>'
    cards = "".join(_card(h.paragraph, h.report, escape(h.paragraph.text)) for h in hits)
    return f'<div class="sources evidence"><div class="sources-summary">{escape(note)}</div>{cards}</div>'


def context_html(paragraph: Paragraph, report: Report, around: Sequence[Paragraph], quote: str = "") -> str:
    """A paragraph with its neighbours, its heading path and where it is in the report."""
    rows = []
    for p in around:
        target = p.id == paragraph.id
        number = f'<span class="para-number">{escape(p.number)}.</span> ' if p.number else ""
        lead = f'<span class="lead-in">{escape(p.lead_in)}</span> ' if p.lead_in else ""
        text = highlighted(p.text, quote) if target else escape(p.text)
        page = f' <span class="para-page">(page {p.page})</span>' if p.page else ""
        rows.append(f'<div class="context-para{" target" if target else ""}">{number}{lead}{text}{page}</div>')
    path = " › ".join(escape(h) for h in paragraph.headings) or "(no heading)"
    return (f'<div class="context"><div class="card-head">{escape(report_heading(report))}</div>'
            f'<div class="card-meta">Heading path: {path}</div>'
            f'<div class="card-meta">{" · ".join(escape(b) for b in _where_bits(paragraph)[1:])} · '
            f'id {escape(paragraph.id)}</div>{"".join(rows)}</div>')


# ---- tables ------------------------------------------------------------------------------------------------

def table_html(rows: Sequence[Sequence[str]], citations: Sequence[Citation] = (), turn: int | None = None) -> str:
    """A comparison (or judgement) table, header row first; cells keep their [n] keys as links."""
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in rows[0])
    body = []
    for row in rows[1:]:
        cells = [f'<th scope="row">{escape(row[0])}</th>']
        for cell in row[1:]:
            silent = ' class="silent"' if cell.strip() == REPORT_SILENT else ""
            cells.append(f"<td{silent}>{cited_text(cell, citations, turn=turn)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="compare-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


GRADE_CLASSES = (("requires improvement", "ri"), ("require improvement", "ri"), ("outstanding", "outstanding"),
                 ("inadequate", "inadequate"), ("adequate", "adequate"), ("good", "good"))
SERVICE_NAMES = {"safeguarding": "Safeguarding", "looked_after": "Looked after children"}


def _legend() -> str:
    """The grades, best first, each in its colour."""
    return "".join(f'<span class="grade grade-{grade_class(g)}">{escape(g.capitalize())}</span>' for g in GRADE_ORDER)


def grade_class(grade: str) -> str:
    lowered = grade.lower()
    return next((css for word, css in GRADE_CLASSES if word in lowered), "other")


def judgements_grid(judgements: Sequence[Judgement], paragraph: Callable[[str], Paragraph],
                    reports: Mapping[str, Report]) -> str:
    """Areas down the side, one column per inspection report, each grade a coloured button that opens
    the paragraph stating it."""
    if not judgements:
        return '<div class="grid-empty">No graded judgements in the corpus yet.</div>'
    columns = sorted(dict.fromkeys(j.report for j in judgements),
                     key=lambda r: ((reports[r].authority or "") if r in reports else r, r))
    order = {area: i for i, area in enumerate((*SIF_AREAS, *AREAS))}
    areas = sorted(dict.fromkeys(j.area for j in judgements), key=lambda a: order.get(a, len(order)))
    head = "".join(f"<th>{escape(_column_label(r, reports))}</th>" for r in columns)
    body = []
    for area in areas:
        cells = []
        for report in columns:
            found = [j for j in judgements if j.report == report and j.area == area]
            cells.append(f"<td>{''.join(_grade_button(j, paragraph(j.paragraph_id)) for j in found) or '–'}</td>")
        label = AREAS[area][0] if area in AREAS else area
        body.append(f'<tr><th scope="row">{escape(label)}</th>{"".join(cells)}</tr>')
    legend = _legend()
    return (f'<div class="grid-legend">Grades: {legend} · click a grade to read the paragraph that states it'
            f'</div><div class="grid-scroll"><table class="judgements-grid"><thead><tr><th>Judgement area</th>{head}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def national_grid(rows: Sequence[GridRow], paragraph: Callable[[str], Paragraph], described: str) -> str:
    """One row per authority, the main areas as columns: its latest inspection's grades, or (every
    inspection) each area's grades as chips in date order. Each grade opens the paragraph stating it."""
    if not rows:
        return f'<div class="grid-empty">No report matches: {escape(described)}.</div>'
    by_authority: dict[str, list[GridRow]] = {}
    for row in rows:
        by_authority.setdefault(row.report.authority or "Unknown", []).append(row)
    head = "".join(f"<th>{escape(h)}</th>" for h in ("Authority", "Region", "Inspections", *GRID_HEADERS))
    body = []
    for authority, mine in by_authority.items():
        dates = " · ".join(escape(_short_date(r.report)) for r in mine)
        cells = []
        for column in range(len(GRID_HEADERS)):
            chips = [_chip(r, r.cells[column], paragraph, len(mine) > 1) for r in mine]
            cells.append(f"<td>{''.join(c for c in chips if c) or '–'}</td>")
        body.append(f'<tr><th scope="row">{escape(authority)}</th><td>{escape(mine[0].region)}</td>'
                    f'<td class="dates">{dates}</td>{"".join(cells)}</tr>')
    legend = _legend()
    return (f'<div class="grid-legend">{escape(described[:1].upper() + described[1:])}: {len(by_authority)} '
            f'authorities, {len(rows)} reports. Grades: {legend} · click a grade to read the paragraph that '
            f'states it</div><div class="grid-scroll"><table class="judgements-grid national"><thead><tr>{head}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def _short_date(report: Report) -> str:
    kind = {"ofsted_ilacs": "ILACS", "ofsted_sif": "SIF"}.get(report.report_type, "")
    return f"{(report.published or report.date or '')[:7]} {kind}".strip()


def _chip(row: GridRow, judgement: Judgement | None, paragraph: Callable[[str], Paragraph], dated: bool) -> str:
    if judgement is None:
        return ""
    return _grade_button(judgement, paragraph(judgement.paragraph_id), f"{row.report.year or ''} " if dated else "")


def _column_label(report_id: str, reports: Mapping[str, Report]) -> str:
    report = reports.get(report_id)
    if report is None:
        return report_id
    return f"{report.authority or 'Unknown'} {report.year or ''}".strip()


def _grade_button(j: Judgement, paragraph: Paragraph, prefix: str = "") -> str:
    """A grade as a coloured button that opens its paragraph; `prefix` (a year) leads its text."""
    grade = j.grade + (f" ({j.grade_number})" if j.grade_number else "")
    text = f"{SERVICE_NAMES[j.service]}: {grade}" if j.service in SERVICE_NAMES else grade
    where = ", ".join(b for b in (f"para {paragraph.number}" if paragraph.number else "",
                                  f"page {paragraph.page}" if paragraph.page else "") if b)
    title = f"{j.label}: {j.grade}" + (f" ({where})" if where else "")
    return (f'<button class="grade grade-{grade_class(j.grade)}" data-paragraph="{escape(j.paragraph_id)}" '
            f'title="{escape(title)}">{escape(prefix + text[:1].upper() + text[1:])}</button>')


# ---- exports -----------------------------------------------------------------------------------------------

def _reference_line(c: Citation) -> str:
    bits = [c.report.authority or "Unknown authority", c.report.title, c.report.date or "undated",
            *_where_bits(c.paragraph), f"id {c.paragraph.id}"]
    return f"[{c.n}] " + " · ".join(markdown(b) for b in bits) + f"\n    > {markdown(_one_line(c.quote))}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _markdown_table(rows: Sequence[Sequence[str]]) -> str:
    def cell(text: str) -> str:
        return markdown(_one_line(text)).replace("|", "\\|")
    lines = ["| " + " | ".join(cell(c) for c in rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def conversation_markdown(turns: Iterable[tuple[str, Answer]]) -> str:
    """The conversation as a Markdown document; each answer followed by its references."""
    out = ["# Conversation about the inspection reports", ""]
    for number, (question, answer) in enumerate(turns, start=1):
        out += [f"## {number}. {markdown(_one_line(question))}", ""]
        if answer.notice:
            out += [f"_{markdown(answer.notice)}_", ""]
        out += [markdown(answer.text), ""]
        if answer.table and len(answer.table) > 1:
            out += [_markdown_table(answer.table), ""]
        if answer.citations:
            out += ["References:", ""] + [_reference_line(c) for c in answer.citations] + [""]
        total = len(answer.claims)
        if total:
            out += [f"_{answer.verified_claims} of {total} claims verified; engine: {markdown(answer.engine)}._", ""]
    return "\n".join(out).rstrip() + "\n"


def table_csv(rows: Sequence[Sequence[str]], citations: Sequence[Citation] = ()) -> str:
    """The table as CSV, then (after a blank row) one row per citation key used in its cells. No cell
    can start a spreadsheet formula (report text such as '=HYPERLINK(...)' stays text)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([csv_cell(c) for c in row] for row in rows)
    if citations:
        writer.writerow([])
        writer.writerow(["key", "authority", "report", "date", "section", "paragraph", "page", "paragraph id",
                         "quote"])
        for c in citations:
            writer.writerow([csv_cell(x) for x in (
                f"[{c.n}]", c.report.authority or "", c.report.title, c.report.date or "", c.paragraph.section,
                c.paragraph.number or "", c.paragraph.page or "", c.paragraph.id, c.quote)])
    return buffer.getvalue()


# ---- the corpus ----------------------------------------------------------------------------------------------

def reports_table(reports: Sequence[Report]) -> str:
    rows = "".join(
        f"<tr><td>{escape(r.authority or 'Unknown')}</td><td>{escape(r.title)}</td>"
        f"<td>{escape(REPORT_TYPES.get(r.report_type, r.report_type))}</td><td>{escape(r.date or 'undated')}</td>"
        f"<td>{len(r.paragraphs)}</td><td>{len(r.judgements)}</td><td>{escape(r.file)}</td></tr>"
        for r in sorted(reports, key=lambda r: (r.authority or "", r.date or "")))
    return ('<table class="reports-table"><thead><tr><th>Authority</th><th>Title</th><th>Type</th><th>Date</th>'
            f'<th>Paragraphs</th><th>Judgements</th><th>File</th></tr></thead><tbody>{rows}</tbody></table>')


def upload_message(stored: Sequence, rejected: Sequence) -> str:
    """What happened to each uploaded file (StoredUpload / RejectedUpload from rag.ingest.upload)."""
    lines = []
    for s in stored:
        renamed = " (a file of that name was already there, so a number was added)" if s.renamed else ""
        lines.append(f'<li class="added">Added <b>{escape(s.original)}</b> as {escape(s.path.name)}{renamed}: '
                     f'{escape(s.authority or "authority not recognised")} — {escape(s.title)}.</li>')
    for r in rejected:
        lines.append(f'<li class="rejected">Not added: {escape(r.reason)}</li>')
    if not lines:
        return ""
    after = "<p>The index is updated; the new reports are in the filters.</p>" if stored else ""
    return f'<div class="upload-result"><ul>{"".join(lines)}</ul>{after}</div>'
