"""Graded judgements as structured records, each tied to the paragraph that states it.

Only what a report states is recorded: a report without a title page may never state its overall
judgement, and a council's own overview has no judgements at all.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.ofsted import ilacs
from rag.ofsted.grades import AREAS, EARLIER_INSPECTION, LAC_AREAS, SIF_AREAS, GradeStatement, find_statements, grade_in
from rag.records import REPORT_TYPES, UNGRADED_TYPES, Judgement, Paragraph
from rag.text.words import split_sentences

SERVICES = {"safeguarding services": "safeguarding", "services for looked after children": "looked_after"}
SERVICE_LABELS = {"safeguarding": "Safeguarding services", "looked_after": "Services for looked after children"}
SUMMARY_PAGES = 2      # the front page states a SIF report's grades (a long title can push them to page 2)
_NUMBER_OF_GRADE = {"outstanding": 1, "good": 2, "adequate": 3, "inadequate": 4}


def extract(report_id: str, authority: str | None, when: str | None, report_type: str,
            paragraphs: Sequence[Paragraph], variant: str = "") -> tuple[list[Judgement], list[str]]:
    """Returns (judgements, notes). Notes flag disagreements between places that state a grade, and
    grades a framework does not give."""
    if report_type == "ofsted_ilacs":
        return ilacs.extract(report_id, authority or "", when or "", paragraphs, variant)
    if report_type == "ofsted_slac":
        return _slac(report_id, authority or "", when or "", paragraphs)
    if report_type == "ofsted_lac":
        return _graded_headings(report_id, authority or "", when or "", paragraphs, LAC_AREAS, "lac")
    if report_type == "ofsted_sif":
        return _sif(report_id, authority or "", when or "", paragraphs)
    if report_type in UNGRADED_TYPES - {"council_overview", "other"}:
        return [], [f"A {REPORT_TYPES[report_type].lower().removeprefix('ofsted ')} carries no graded judgements."]
    return [], []


def _sif(report_id: str, authority: str, when: str, paragraphs: Sequence[Paragraph]):
    """The front page's summary (the headline and the table of judgements) states the report's grades; the
    body repeats them in sentences, headings and judgement boxes, which are cited where they agree (a
    sentence reads better than a table cell). Without a front page, the body is all there is. Grades of an
    earlier inspection (a re-inspection lists them) are never this report's."""
    summary: dict[str, GradeStatement] = {}
    candidates: dict[str, list[tuple[int, int, Paragraph, GradeStatement]]] = {}
    for order, p in enumerate(paragraphs):
        if re.search(r"what the inspection judge?ments mean", p.section, re.I) or about_earlier(p):
            continue                      # definitions of the grade scale, or an earlier inspection's grades
        for statement in find_statements(p.text):
            if statement.area not in SIF_AREAS or statement.earlier:
                continue
            candidates.setdefault(statement.area, []).append((_priority(p, statement), order, p, statement))
            if p.page is not None and p.page <= SUMMARY_PAGES and statement.area not in summary:
                summary[statement.area] = statement
    judgements, notes = [], []
    for area in SIF_AREAS:
        if area not in candidates:
            continue
        stated = summary.get(area)
        grade = stated.grade if stated else min(candidates[area], key=lambda c: c[:2])[3].grade
        _, _, p, statement = min((c for c in candidates[area] if c[3].grade == grade), key=lambda c: c[:2])
        judgements.append(Judgement(report_id, authority, when, area, AREAS[area][0], grade, p.id, "sif",
                                    grade_text=statement.words))
        others = sorted({c[3].grade for c in candidates[area]} - {grade})
        if others:
            notes.append(f"{AREAS[area][0]} is {grade} in the report's summary, but the body also says "
                         f"{', '.join(others)}.")
    return judgements, notes


def about_earlier(p: Paragraph) -> bool:
    """A paragraph about an earlier inspection: under a 'Previous inspections' heading, or a list whose
    lead-in says so ('The judgements at the last inspection were:')."""
    return bool(EARLIER_INSPECTION.search(p.lead_in) or any(
        re.search(r"\b(?:previous|earlier|last)\b.*\binspection", h, re.I) for h in p.headings))


def _priority(p: Paragraph, statement: GradeStatement | None = None) -> int:
    """Which statement of a grade to cite: a sentence or the judgement heading a judgement box ('Children's
    services in X are inadequate' over its grade table) first, then a heading that states it, then a
    section's judgement box, then the front-page summary table."""
    if p.kind == "table":
        if statement is not None and " | " not in _line_at(p.text, statement.start):
            return 1      # the judgement heading the grade table, with the inspection's dates: the formal statement
        return 3 if p.text.count("\n") < 3 else 4
    return 1 if p.text.rstrip().endswith(".") else 2


def _line_at(text: str, offset: int) -> str:
    return text[text.rfind("\n", 0, offset) + 1:].split("\n", 1)[0]


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


def _graded_headings(report_id: str, authority: str, when: str, paragraphs: Sequence[Paragraph],
                     areas: Sequence[str], framework: str) -> tuple[list[Judgement], list[str]]:
    """2012-13 inspections: each judgement is a section heading with 'Grade n (label)' under it, e.g.
    'Capacity to improve | Grade 2 (Good)'; the record of main findings at the end lists them again."""
    found: dict[str, Judgement] = {}
    for p in paragraphs:
        for statement in find_statements(p.text if p.kind != "paragraph" or len(p.text) < 200 else ""):
            if statement.area in areas and statement.area not in found and not statement.earlier:
                found[statement.area] = Judgement(report_id, authority, when, statement.area, AREAS[statement.area][0],
                                                  statement.grade, p.id, framework, grade_number=statement.grade_number,
                                                  grade_text=statement.words)
    # The grade is the heading's or the record's; the paragraph cited is the section's sentence that states
    # it ('The overall effectiveness of services for looked after children ... is adequate.'), when there is one.
    for area, judgement in found.items():
        said = next((p for p in paragraphs if p.kind == "paragraph" and not about_earlier(p)
                     and any(s.area == area and s.grade == judgement.grade and not s.earlier
                             for s in find_statements(next(iter(split_sentences(p.text)), "")))), None)
        if said is not None:
            found[area] = replace(judgement, paragraph_id=said.id)
    return [found[a] for a in areas if a in found], []
