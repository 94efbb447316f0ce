"""Graded judgements of an ILACS report (inspection of local authority children's services, 2018-).

The grade table on the first page is the report's statement of its grades ("Judgement | Grade" rows, the
grade in the report's own words: "Requires improvement to be good"); the section headings repeat them
("The experiences and progress of care leavers: good"). Sentences about an earlier inspection ("since the
last inspection in 2021, when overall effectiveness was inadequate") are history and never a grade. From
April 2026 Ofsted gives no overall effectiveness grade: the report says nothing of one, and neither does
this module.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from rag.ofsted.frameworks import ILACS_REFORM
from rag.ofsted.grades import AREAS, ILACS_AREAS, find_statements, grade_in
from rag.records import Judgement, Paragraph

TABLE_PAGES = 2        # the grade table is on the first page; a long title can push it to the second
NO_OVERALL = (f"This report has no overall effectiveness grade: Ofsted stopped giving one for inspections "
              f"from {ILACS_REFORM:%B %Y}.")


def extract(report_id: str, authority: str, when: str, paragraphs: Sequence[Paragraph],
            variant: str = "") -> tuple[list[Judgement], list[str]]:
    table = _table_grades(paragraphs)
    headings = _heading_grades(paragraphs)
    notes: list[str] = []
    found: dict[str, Judgement] = {}
    for area in ILACS_AREAS:
        stated = table.get(area) or headings.get(area)
        if stated is None:
            continue
        paragraph, label, words = stated
        grade = grade_in(words) or ""
        found[area] = Judgement(report_id, authority, when, area, label, grade, paragraph.id, "ilacs",
                                grade_text=words)
        other = headings.get(area) if area in table else None
        if other is not None and grade_in(other[2]) != grade:
            notes.append(f"The grade table gives {label} as {words!r}, a section heading as {other[2]!r}.")
    if "overall_effectiveness" not in found and "April 2026" in variant:
        notes.append(NO_OVERALL)
    return [found[a] for a in ILACS_AREAS if a in found], notes


def _area_of(label: str) -> str | None:
    text = " ".join(label.split()).strip(" .:").lower()
    text = re.sub(r"^\d+(?:\.\d+)?\.?\s+", "", text)           # '1. Children who need help ...'
    for key in ILACS_AREAS:
        if re.fullmatch(AREAS[key][1], text, re.I):
            return key
    return None


def _table_grades(paragraphs: Sequence[Paragraph]) -> dict[str, tuple[Paragraph, str, str]]:
    """area -> (the table, the area as the report names it, the grade in its words) from the grade table."""
    found: dict[str, tuple[Paragraph, str, str]] = {}
    for p in paragraphs:
        if p.kind != "table" or (p.page or 1) > TABLE_PAGES:
            continue
        for row in p.text.split("\n"):
            cells = [c.strip() for c in row.split(" | ")]
            if len(cells) < 2:
                continue
            area, words = _area_of(cells[0]), " ".join(cells[1:]).strip()
            if area and grade_in(words) and area not in found:
                found[area] = (p, " ".join(cells[0].split()), words)
    return found


def _heading_grades(paragraphs: Sequence[Paragraph]) -> dict[str, tuple[Paragraph, str, str]]:
    """area -> (paragraph, label, grade words) from section headings that state a grade ('...: good')."""
    found: dict[str, tuple[Paragraph, str, str]] = {}
    for p in paragraphs:
        if p.kind == "table" or len(p.text) > 200:
            continue
        for statement in find_statements(p.text):
            if statement.area in ILACS_AREAS and not statement.earlier and statement.area not in found:
                label = p.text[statement.start:statement.end].rsplit(":", 1)[0].strip()
                found[statement.area] = (p, label or AREAS[statement.area][0], statement.words)
    return found
