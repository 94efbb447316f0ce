"""Graded judgements as structured records, each tied to the paragraph that states it.

Only what a report states is recorded: a report without a title page may never state its overall
judgement, and a council's own overview has no judgements at all.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from rag.ofsted.grades import AREAS, SIF_AREAS, find_statements, grade_in
from rag.records import Judgement, Paragraph

SERVICES = {"safeguarding services": "safeguarding", "services for looked after children": "looked_after"}
SERVICE_LABELS = {"safeguarding": "Safeguarding services", "looked_after": "Services for looked after children"}
_NUMBER_OF_GRADE = {"outstanding": 1, "good": 2, "adequate": 3, "inadequate": 4}


def extract(report_id: str, authority: str | None, when: str | None, report_type: str,
            paragraphs: Sequence[Paragraph]) -> tuple[list[Judgement], list[str]]:
    """Returns (judgements, notes). Notes flag disagreements between places that state a grade."""
    if report_type == "ofsted_slac":
        return _slac(report_id, authority or "", when or "", paragraphs)
    if report_type in ("ofsted_sif", "ofsted_other"):
        return _sif(report_id, authority or "", when or "", paragraphs)
    return [], []


def _sif(report_id: str, authority: str, when: str, paragraphs: Sequence[Paragraph]):
    # Priority: a sentence or heading that states the grade, then a section's 'Key judgement' box, then
    # the summary table on the front page. Document order breaks ties.
    best: dict[str, tuple[int, int, Paragraph, str]] = {}
    seen: dict[str, set[str]] = {}
    for order, p in enumerate(paragraphs):
        if re.search(r"what the inspection judge?ments mean", p.section, re.I):
            continue                      # definitions of the grade scale, not judgements
        priority = _priority(p)
        for statement in find_statements(p.text):
            if statement.area not in SIF_AREAS:
                continue
            seen.setdefault(statement.area, set()).add(statement.grade)
            candidate = (priority, order, p, statement.grade)
            if statement.area not in best or candidate[:2] < best[statement.area][:2]:
                best[statement.area] = candidate
    judgements = [
        Judgement(report_id, authority, when, area, AREAS[area][0], grade, p.id, "sif",
                  grade_number=None)
        for area in SIF_AREAS if area in best for _, _, p, grade in [best[area]]]
    notes = [f"The report states more than one grade for {AREAS[a][0]}: {', '.join(sorted(g))}."
             for a, g in seen.items() if len(g) > 1]
    return judgements, notes


def _priority(p: Paragraph) -> int:
    """Which statement of a grade to cite: a sentence first, then a heading that states it, then a
    section's judgement box, then the front-page summary table."""
    if p.kind == "table":
        return 3 if p.text.count("\n") < 3 else 4
    return 1 if p.text.rstrip().endswith(".") else 2


def statement_paragraphs(paragraphs: Sequence[Paragraph], area: str) -> list[Paragraph]:
    """Every paragraph that states the grade for an area, best citation first."""
    found = [p for p in paragraphs if any(s.area == area for s in find_statements(p.text))
             and not re.search(r"what the inspection judge?ments mean", p.section, re.I)]
    return sorted(found, key=lambda p: (_priority(p), p.ordinal))


def _slac(report_id: str, authority: str, when: str, paragraphs: Sequence[Paragraph]):
    """2009-2012 inspections: each area is a heading with 'Grade n (label)' under one of two services;
    the record of main findings at the end lists them again (and a few only there)."""
    found: dict[tuple[str, str], Judgement] = {}
    for p in paragraphs:
        if len(p.headings) < 2 or "| Grade" not in p.headings[-1]:
            continue
        service = SERVICES.get(p.headings[0].lower())
        area_text, _, grade_text = p.headings[-1].partition(" | ")
        area = _area_of(area_text)
        grade = grade_in(grade_text)
        if not (service and area and grade) or (service, area) in found:
            continue
        number = re.search(r"Grade (\d)", grade_text)
        found[(service, area)] = _slac_judgement(report_id, authority, when, service, area, grade,
                                                int(number.group(1)) if number else None, p.id)
    notes: list[str] = []
    for p in paragraphs:
        if p.kind == "table" and p.text.lower().startswith(("safeguarding services", "overall effectiveness")):
            _record_of_main_findings(p, report_id, authority, when, found, notes)
    return list(found.values()), notes


def _record_of_main_findings(table: Paragraph, report_id: str, authority: str, when: str,
                             found: dict[tuple[str, str], Judgement], notes: list[str]) -> None:
    # Its service sub-headings can be garbled by conversion; each service's block starts with
    # 'Overall effectiveness', which is reliable.
    service: str | None = None
    for row in table.text.split("\n"):
        area_text, _, grade_text = row.partition(" | ")
        area = _area_of(area_text)
        if area == "overall_effectiveness":
            service = "safeguarding" if service is None else "looked_after"
        grade = grade_in(grade_text) if grade_text else None
        if not (service and area and grade):
            continue
        existing = found.get((service, area))
        if existing is None:
            found[(service, area)] = _slac_judgement(report_id, authority, when, service, area, grade,
                                                     _NUMBER_OF_GRADE.get(grade), table.id)
        elif existing.grade != grade:
            notes.append(f"{SERVICE_LABELS[service]}: {AREAS[area][0]} is {existing.grade} in the text "
                         f"but {grade} in the record of main findings.")


def _slac_judgement(report_id, authority, when, service, area, grade, number, paragraph_id) -> Judgement:
    return Judgement(report_id, authority, when, area, f"{SERVICE_LABELS[service]}: {AREAS[area][0]}", grade,
                     paragraph_id, "slac", service=service, grade_number=number)


def _area_of(text: str) -> str | None:
    text = text.strip().rstrip("?:").lower()
    for key, (label, pattern) in AREAS.items():
        if key in SIF_AREAS and key != "overall_effectiveness":
            continue
        if re.fullmatch(pattern, text, re.I) or text == label.lower():
            return key
    return None
