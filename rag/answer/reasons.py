"""Where a report gives the reasons for a grade: the paragraphs a why-question is answered from.

Inspectors state the reasons in three places, whatever the framework: the report's opening summary ('There
are serious failures which leave too many children at risk of harm ...'), a list the summary introduces
('Children's services in X are inadequate because:', as the 2013-18 framework writes it), and the first
paragraphs of the graded area's own section, which open on its main findings before the detail. Its list of
what needs to improve answers 'what did Ofsted want it to improve?'.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.extractive import FRONT_MATTER, IMPROVE, findings
from rag.ofsted.glossary import expanded_words
from rag.ofsted.grades import AREAS, mentions_area, same_area
from rag.records import Paragraph, Report
from rag.search.question import areas_named

_BECAUSE = re.compile(r"\bbecause\s*:\s*$", re.I)
# The report's facts about the area ('Child protection in this area', 'Information about this local authority
# area'): figures and dates, not findings, though 'no' and 'low' read like weaknesses there.
AREA_FACTS = re.compile(r"\bin this area\b|\binformation about this (?:local authority|inspection)\b"
                        r"|\bother ofsted inspections\b|\bchildren living in\b", re.I)
BECAUSE_ITEMS = 12       # the longest 'because:' list seen in a report is about ten findings
SECTION_OPENING = 4      # paragraphs of an area's section that open on its main findings


def area_patterns(areas: Sequence[str]) -> list[re.Pattern[str]]:
    """The patterns of the areas' headings, their namesakes in other frameworks included."""
    return [re.compile(AREAS[a][1], re.I) for area in areas for a in same_area(area) if a in AREAS]


def reason_paragraphs(report: Report, areas: Sequence[str], reasons: str) -> list[Paragraph]:
    """The report's paragraphs that give the reasons for the grade of `areas` (keys of AREAS; "weaknesses"
    for a grade below good, "strengths" for good or better), most telling first: for the overall grade a
    'because:' list, the opening summary's findings, then its sections; for an area, its section's opening
    findings, the summary's findings about that area, then the rest of its section."""
    patterns = area_patterns(areas)
    overall = "overall_effectiveness" in areas
    wanted = {a for area in areas for a in same_area(area)}
    paragraphs = report.paragraphs
    listed = _because_list(paragraphs) if overall else []
    opening = [p for p in _opening_summary(paragraphs) if findings(p.text, reasons)
               and (overall or wanted & {a for named in areas_named(p.text) for a in same_area(named)})][:2]
    section = [p for p in paragraphs if _under(p, patterns) and not FRONT_MATTER.match(p.text)
               and p not in listed]
    # The opening paragraphs of a section carry its headline findings, in their order; later ones count
    # by how many findings they state.
    ranked = sorted(((i, p) for i, p in enumerate(section) if findings(p.text, reasons)),
                    key=lambda item: (item[0] >= SECTION_OPENING, 0 if item[0] < SECTION_OPENING
                                      else -min(findings(item[1].text, reasons), 3), item[0]))
    # An area's own opening findings come before the summary's (which weighs every area), except for the
    # overall grade, which the summary gives.
    first = [p for i, p in ranked if i < SECTION_OPENING]
    ordered = (*listed, *opening, *first) if overall else (*first, *opening)
    out: dict[str, Paragraph] = {}
    for p in (*ordered, *(p for _, p in ranked)):
        out.setdefault(p.id, p)
    return list(out.values())


def _under(paragraph: Paragraph, patterns: Sequence[re.Pattern[str]]) -> bool:
    return any(p.search(h) for h in paragraph.headings for p in patterns)


def _because_list(paragraphs: Sequence[Paragraph]) -> list[Paragraph]:
    """The findings after 'X are inadequate because:' that share its top heading."""
    for i, p in enumerate(paragraphs):
        if _BECAUSE.search(p.text) and p.headings:
            top = p.headings[0]
            items = []
            for q in paragraphs[i + 1:i + 1 + BECAUSE_ITEMS]:
                if not q.headings or q.headings[0] != top or IMPROVE.search(" ".join(q.headings)):
                    break
                items.append(q)
            return items
    return []


def _opening_summary(paragraphs: Sequence[Paragraph]) -> list[Paragraph]:
    """The paragraphs before the first graded area's section or the list of what needs to improve: the
    report's summary of its findings (dates and inspectors aside)."""
    out = []
    for p in paragraphs:
        if any(mentions_area(h) or IMPROVE.search(h) for h in p.headings):
            break
        if not FRONT_MATTER.match(p.text):
            out.append(p)
    return out


# The time-frame lines a list of what needs to improve is grouped under ('Immediately:', 'Within three months:').
# A list's lead-ins, not its items: 'Immediately:', 'Within three months:', '... should take the following action.'
_NOT_AN_ITEM = re.compile(r"^\s*(?:immediately|within (?:\w+ )+(?:months?|weeks?))\s*:?\s*$"
                          r"|^.*\bthe following(?: \w+){0,2}\s*[.:]?\s*$", re.I)


def improvement_items(report: Report, about: set[str] | frozenset[str] = frozenset()) -> list[Paragraph]:
    """The items of the report's own list of what needs to improve, in order; those that name most of the
    words `about` (stems: a topic such as care leavers), when any item names one of them ('still' and
    'even though' are no topic)."""
    items = [p for p in report.paragraphs if any(IMPROVE.search(h) for h in p.headings)
             and not _NOT_AN_ITEM.match(p.text)]
    # An item's lead-in ('Immediately:') says when, so 'what had to improve immediately?' finds its items.
    named = {p.id: len(about & expanded_words(" ".join((*p.headings[1:], p.lead_in, p.text)))) for p in items}
    most = max(named.values(), default=0)
    return [p for p in items if named[p.id] == most] if most else items
