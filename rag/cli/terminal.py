"""Plain-text rendering for the terminal: tables, search hits, answers with their references.

Everything printed goes through rag.sanitize.terminal, so an escape sequence inside a report cannot
clear the screen or rewrite what the user reads.
"""
from __future__ import annotations

import functools
import re
import sys
import textwrap
from collections.abc import Callable, Sequence

from rag.ofsted.facts import facts
from rag.ofsted.table import GRID_HEADERS, GridRow, short_grade
from rag.records import REPORT_TYPES, Answer, Citation, Judgement, Paragraph, Report
from rag.text.sanitize import terminal_safe


def _for_terminal(render: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(render)
    def safe(*args, **kwargs) -> str:
        return terminal_safe(render(*args, **kwargs))
    return safe


@_for_terminal
def table(rows: Sequence[Sequence[str]], max_width: int = 60) -> str:
    cells = [[terminal_safe(c)[:max_width] for c in row] for row in rows]     # widths of what is shown
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@_for_terminal
def ingest_summary(result) -> str:
    rows = [("report", "file", "authority", "type", "date", "paragraphs", "judgements", "confidence")]
    for r in result.corpus.reports:
        rows.append((r.id, r.file, r.authority or "?", REPORT_TYPES.get(r.report_type, r.report_type),
                     r.date or "?", str(len(r.paragraphs)), str(len(r.judgements)), r.confidence))
    out = [table(rows)]
    for s in result.corpus.skipped:
        out.append(f"skipped {s.file}: {s.reason}")
    out.extend(f"warning: {w}" for w in result.corpus.warnings)
    st = result.stats
    out.append(f"{st.reports} reports, {st.paragraphs} paragraphs: {st.embedded} embedded, {st.reused} reused, "
               f"{st.removed} removed; {result.seconds:.1f} s")
    return "\n".join(out)


@_for_terminal
def reports_table(reports: Sequence[Report]) -> str:
    rows = [("id", "authority", "region", "report type", "inspected", "published", "lead inspector", "paragraphs",
             "grades", "confidence")]
    for r in sorted(reports, key=lambda r: (r.authority or "", r.date or "")):
        kind = REPORT_TYPES.get(r.report_type, r.report_type) + (f" ({r.variant})" if r.variant else "")
        inspected = f"{r.inspection_start}..{r.inspection_end or ''}" if r.inspection_start else "-"
        place = facts(r.authority)
        rows.append((r.id, r.authority or "?", place.region if place else "-", kind, inspected,
                     r.published or ("not stated" if r.report_type.startswith("ofsted") else "-"),
                     r.lead_inspector or "-", str(len(r.paragraphs)), str(len(r.judgements)), r.confidence))
    notes = [f"  {r.id}: {n}" for r in reports for n in r.notes]
    return table(rows, 70) + ("\nnotes:\n" + "\n".join(notes) if notes else "")


def report_json(report: Report) -> dict:
    """A report's summary with its authority's facts (codes, region) for `rag reports --json`."""
    place = facts(report.authority)
    return {**report.summary(), "region": place.region if place else None,
            "la_code": place.la_code if place else None, "la_code_new": place.la_code_new if place else None}


def judgement_json(j: Judgement, index) -> dict:
    paragraph = index.paragraph(j.paragraph_id)
    return {"authority": j.authority, "report": j.report, "date": j.date, "area": j.area, "label": j.label,
            "grade": j.grade, "grade_number": j.grade_number, "framework": j.framework, "service": j.service or None,
            "paragraph_id": j.paragraph_id, "paragraph": paragraph.number, "page": paragraph.page,
            "text": paragraph.text}


@_for_terminal
def judgements_table(rows: Sequence[Judgement], width: int = 120) -> str:
    """Areas down the side, one column per report (authority and year), the way outcomes are scanned; when
    that is wider than `width`, one block per report instead. Every cell carries the paragraph id that
    `rag show` takes."""
    if not rows:
        return "No graded judgements in the index."
    columns = list(dict.fromkeys((j.report, f"{j.authority} {j.date[:4]}") for j in rows))
    labels = list(dict.fromkeys(j.label for j in rows))
    grid = [("judgement", *(c[1] for c in columns))]
    for label in labels:
        row = [label]
        for report, _ in columns:
            found = [j for j in rows if j.report == report and j.label == label]
            row.append(f"{found[0].grade} ({found[0].paragraph_id.split(':')[1]})" if found else "-")
        grid.append(tuple(row))
    shown = table(grid, 48)
    footer = "\n(`rag show <id>` prints the paragraph that states a grade: the id in brackets, or <report>:<id>)"
    if max(len(line) for line in shown.splitlines()) <= width:
        return shown + footer
    blocks = []
    for report, heading in columns:
        mine = [j for j in rows if j.report == report]
        blocks.append(f"{heading} ({report})\n" + table([("judgement", "grade", "paragraph"),
                                                        *((j.label, j.grade, j.paragraph_id) for j in mine)], 56))
    return "\n\n".join(blocks) + "\n(`rag show <paragraph>` prints the paragraph that states a grade)"


@_for_terminal
def where(paragraph: Paragraph, report: Report) -> str:
    parts = [report.authority or "?", f"{REPORT_TYPES.get(report.report_type, report.report_type)} {report.date or ''}".strip()]
    if paragraph.section:
        parts.append(paragraph.section)
    if paragraph.number:
        parts.append(f"para {paragraph.number}")
    if paragraph.page:
        parts.append(f"p. {paragraph.page}")
    return " · ".join(parts)


@_for_terminal
def show(paragraph: Paragraph, report: Report, around: Sequence[Paragraph]) -> str:
    out = [f"{paragraph.id}", f"{report.title}", where(paragraph, report), ""]
    for p in around:
        marker = ">>" if p.id == paragraph.id else "  "
        number = f"{p.number}. " if p.number else ""
        lead = f"({p.lead_in}) " if p.lead_in and p.id == paragraph.id else ""
        out.append(textwrap.fill(f"{number}{lead}{p.text}", 100, initial_indent=f"{marker} ", subsequent_indent="   "))
    return "\n".join(out)


@_for_terminal
def hits(result, elapsed: float) -> str:
    header = f"{len(result.hits)} results in {elapsed * 1000:.0f} ms"
    if result.query.authorities:
        header += f" (authorities: {', '.join(result.query.authorities)})"
    if result.query.unknown_authorities:
        header += f" — not in the corpus: {', '.join(result.query.unknown_authorities)}"
    out = [header]
    for rank, hit in enumerate(result.hits, start=1):
        out.append(f"\n{rank}. [{hit.score:.4f}] {where(hit.paragraph, hit.report)}\n   id {hit.paragraph.id}")
        out.append(textwrap.fill(hit.paragraph.text, 100, initial_indent="   ", subsequent_indent="   "))
    return "\n".join(out)


@_for_terminal
def references(citations: Sequence[Citation]) -> str:
    lines = []
    for c in citations:
        lines.append(f"[{c.n}] {where(c.paragraph, c.report)} ({c.paragraph.id})")
        lines.append(textwrap.fill(f"“{c.quote}”", 100, initial_indent="    ", subsequent_indent="    "))
    return "\n".join(lines)


@_for_terminal
def answer_text(answer: Answer, *, with_text: bool = True) -> str:
    out = [answer.text] if with_text else []
    if answer.table and len(answer.table) > 1:
        out += ["", table(answer.table, 70)]
    if answer.citations:
        out += ["", "References:", references(answer.citations)]
    total, verified = len(answer.claims), answer.verified_claims
    if total:
        out.append(f"\n{verified} of {total} claims verified against their cited paragraphs.")
    return "\n".join(out).lstrip("\n")


def stream_answer(bot, question: str, history, authorities, *, quiet: bool = False) -> Answer:
    """Sources as soon as they are found, the engine's text as it is written, then the checked answer
    (printed again only where the checks changed it) and its references."""
    answer = None
    the_plan = None
    draft: list[str] = []
    group = -1
    for event in bot.stream(question, history, authorities=authorities):
        if event.kind == "answer":
            answer = event.answer
            if answer.notice:          # on stderr, so `--json` output stays one JSON document
                print(terminal_safe(f"[{answer.notice}]"), file=sys.stderr)
        if quiet:
            continue
        if event.kind == "plan":
            the_plan = event.plan
            if the_plan.standalone != question:
                print(terminal_safe(f"(understood as: {the_plan.standalone})"), file=sys.stderr)
            sources = [pa.hit for g in the_plan.groups for pa in g.passages][:6]
            if sources:
                print(terminal_safe("Sources: " + "; ".join(f"{h.report.authority or '?'} {h.paragraph.number or ''}".strip()
                                                       for h in sources)), file=sys.stderr)
        elif event.kind == "token" and bot.engine != "extractive":   # extractive text arrives whole
            if event.group != group and the_plan is not None and the_plan.groups[event.group].authority:
                print(terminal_safe(f"{chr(10) if draft else ''}{the_plan.groups[event.group].authority}: "), end="")
            group = event.group
            print(terminal_safe(event.text), end="", flush=True)
            draft.append(event.text)
        elif event.kind == "answer":
            changed = _plain("".join(draft)) != _plain(answer.text)
            if draft:
                print("\n")
                if answer.notice:      # the engine failed part-way: what it wrote is replaced
                    print("Extracted from the reports instead:")
                elif changed:
                    print("Checked against the paragraphs:")
            print(answer_text(answer, with_text=not draft or changed))
    assert answer is not None
    return answer


def _plain(text: str) -> str:
    return re.sub(r"[^\w\[\]]+", " ", text).strip().lower()     # keys kept: renumbered keys mean a reprint


JUDGEMENT_COLUMNS = 6       # up to this many reports fit side by side as columns; more become rows


@_for_terminal
def judgements_grid(rows: Sequence[GridRow], described: str) -> str:
    """One line per report: authority, date, framework, then the grade of each main area (short words);
    fits 120 columns. The filter is said first, the count last."""
    if not rows:
        return f"No report matches ({described})."
    grid_rows = [("Authority", "Date", "Framework", *GRID_HEADERS)]
    for row in rows:
        r = row.report
        kind = {"ofsted_ilacs": "ILACS", "ofsted_sif": "SIF"}.get(r.report_type, r.report_type)
        grid_rows.append((r.authority or "?", (r.published or r.date or "")[:10], kind,
                          *(short_grade(j.grade) if j else "-" for j in row.cells)))
    authorities = len({r.report.authority for r in rows})
    return (f"{described}\n" + table(grid_rows, 28) +
            f"\n{len(rows)} reports of {authorities} authorities. RI = requires improvement; - = no grade. "
            f"`--csv` gives each grade's paragraph id for `rag show`.")
