"""Which kind of report a text is: the Ofsted framework it was inspected under (and its variant), or a
council's own report, read from the title page and the report's own wording, with the evidence.

Frameworks of children's services inspection in England:
  - ILACS, inspection of local authority children's services (2018-): standard (two weeks on site) or short
    (one week); graded on overall effectiveness (until April 2026), the impact of leaders, help and
    protection, children in care (and care leavers, graded apart from 2023);
  - the single inspection framework, SIF (2013-2018): with or without the review of the Local Safeguarding
    Children Board, and re-inspections;
  - inspections of looked after children services (2012-13), of arrangements for the protection of
    children (2012-13), and of safeguarding and looked after children services, SLAC (2009-12), on the
    Grade 1-4 scale;
  - focused visits, monitoring visits and joint targeted area inspections, which carry no grades.
Whatever is not recognised is "ofsted_other" (an Ofsted report of another kind) or "other", never a guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ILACS_REFORM = date(2026, 4, 1)      # inspections from this date have no overall effectiveness grade
NO_OVERALL_GRADE = "no overall effectiveness grade"     # in the variant of an ILACS report from April 2026
SHORT_ILACS_DAYS = 7                 # a short inspection is one week on site; a standard one two


@dataclass(frozen=True)
class Framework:
    report_type: str                 # a key of rag.records.REPORT_TYPES
    variant: str = ""                # "standard", "short", "with LSCB review", "re-inspection", ...
    evidence: str = ""               # the words of the report that say so
    sure: bool = True


_TITLES: tuple[tuple[str, str, str], ...] = (
    # (report type, variant, pattern on the title page), most specific first
    ("ofsted_sif", "re-inspection", r"\bre-?\s*inspection of services for children in need of help and protection"),
    ("ofsted_sif", "", r"\binspection of services for children in need of help and\s+protection"),
    ("ofsted_ilacs", "", r"\binspection of\b.{0,120}?\b(?:local authority\s+)?children[’']s\s+(?:social\s+care\s+)?"
                         r"services\b|\bimpact of leaders on social work\s+practice"),
    ("ofsted_lac", "", r"\binspection of (?:services for )?looked after children(?:['’]s)?\s+services\b"),
    ("ofsted_cp", "", r"\binspection of local authority arrangements for the protection of children\b"),
    ("ofsted_slac", "", r"\binspection of safeguarding and looked after children services\b"),
    ("ofsted_focused_visit", "", r"\bfocused visit to\b"),
    ("ofsted_monitoring_visit", "", r"\bmonitoring visit (?:to|of)\b"),
    ("ofsted_jtai", "", r"\bjoint targeted area inspection\b"),
    ("ofsted_sif", "LSCB review only", r"\breview of the effectiveness of the local safeguarding children\s+board"),
)
_LSCB_REVIEW = re.compile(r"\breview of the effectiveness of the local safeguarding children\s+board", re.I)


def classify(head: str, start: str | None = None, end: str | None = None) -> Framework | None:
    """The framework the title page (`head`, the first lines) names, or None when it names none.
    start/end: the inspection dates (ISO), which tell a short ILACS inspection from a standard one."""
    flat = " ".join(head.split())
    for report_type, variant, pattern in _TITLES:
        match = re.search(pattern, flat, re.I)
        if not match:
            continue
        evidence = flat[max(0, match.start() - 20):match.end() + 20].strip()
        if report_type == "ofsted_sif" and not variant:
            variant = "with LSCB review" if _LSCB_REVIEW.search(flat) else "without LSCB review"
        elif report_type == "ofsted_sif" and variant == "re-inspection" and _LSCB_REVIEW.search(flat):
            variant = "re-inspection with LSCB review"
        elif report_type == "ofsted_ilacs":
            variant = ilacs_variant(start, end)
        return Framework(report_type, variant, evidence)
    return None


def ilacs_variant(start: str | None, end: str | None) -> str:
    """'short' or 'standard' from the days on site; 'from April 2026' when Ofsted no longer grades overall
    effectiveness. Reports do not say which; an unknown length says nothing."""
    parts = []
    if start and end and len(start) == len(end) == 10:
        days = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
        parts.append("short" if days <= SHORT_ILACS_DAYS else "standard")
    if start and len(start) == 10 and date.fromisoformat(start) >= ILACS_REFORM:
        parts.append(f"from April 2026: {NO_OVERALL_GRADE}")
    return ", ".join(parts)
