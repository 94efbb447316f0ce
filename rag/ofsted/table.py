"""The judgements table of a whole corpus, queried with structured filters: which authorities, which of
their inspections (the latest of each, those in a time window, every one), which judgement, which grades,
and changes from one inspection to the next. Deterministic: the same filter gives the same rows, whatever
engine answers, and every row keeps the paragraph that states its grade.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from rag.ofsted.facts import facts
from rag.ofsted.grades import AREAS, EARLIER_INSPECTION, GRADE_ORDER, GRADE_WORD, same_area
from rag.records import Judgement, Paragraph, Report
from rag.text.words import split_sentences

EVERY_AREA = "*"                # a filter on every graded judgement of a report ('outstanding in all five')
NO_GRADE = "no grade"           # a grade filter value: reports that give no grade for the area
GRADED_TYPES = ("ofsted_ilacs", "ofsted_sif", "ofsted_lac", "ofsted_cp", "ofsted_slac")
# The inspections of a whole children's services department, one after another: what 'overall', 'latest'
# and 'every inspection' mean in a question about authorities (the 2009-13 frameworks graded one service).
CHILDRENS_SERVICES_TYPES = ("ofsted_ilacs", "ofsted_sif")


@dataclass(frozen=True)
class TableFilter:
    area: str = "overall_effectiveness"        # a key of rag.ofsted.grades.AREAS
    grades: frozenset[str] = frozenset()       # normalised grades wanted; empty: any
    region: str | None = None
    authorities: frozenset[str] = frozenset()  # restrict to these (a statistical neighbour group); empty: all
    since: str | None = None                   # ISO date: reports dated on or after
    until: str | None = None                   # ISO date: reports dated on or before
    scope: str = "latest"                      # "latest" inspection of each authority, or "all" inspections
    change: tuple[frozenset[str], frozenset[str]] | None = None   # (from grades, to grades), consecutive inspections
    every: bool = False                        # the grade at every inspection (with at least min_reports)
    min_reports: int = 1
    frameworks: frozenset[str] = frozenset()   # report types; empty: every graded framework

    def describe(self) -> str:
        """The filter in plain words: what 'I read this as' says."""
        label = (AREAS[self.area][0].lower() if self.area in AREAS else
                 "every judgement" if self.area == EVERY_AREA else self.area)
        parts = []
        if self.change:
            parts.append(f"{_either(self.change[0])} then {_either(self.change[1])} at the next inspection, "
                         f"for {label}")
        elif self.every:
            parts.append(f"{_either(self.grades)} for {label} at every inspection"
                         + (f" (at least {self.min_reports})" if self.min_reports > 1 else ""))
        else:
            which = "the latest inspection of each authority" if self.scope == "latest" else "every inspection"
            parts.append(f"{which}, {label}" + (f", {_either(self.grades)}" if self.grades else ""))
        if self.region:
            parts.append(f"authorities in {self.region}")
        if self.authorities:
            parts.append(f"{len(self.authorities)} authorities named")
        if self.since and self.until:
            parts.append(f"reports dated {self.since[:10]} to {self.until[:10]}")
        elif self.since:
            parts.append(f"reports dated {self.since[:10]} or later")
        elif self.until:
            parts.append(f"reports dated {self.until[:10]} or earlier")
        return "; ".join(parts)


def _either(grades: frozenset[str]) -> str:
    ordered = [g for g in (*GRADE_ORDER, NO_GRADE) if g in grades]
    return " or ".join(ordered) if ordered else "any grade"


@dataclass(frozen=True)
class TableRow:
    authority: str
    reports: tuple[Report, ...]                          # the inspection, or (earlier, later) for a change
    judgements: tuple[Judgement | None, ...]             # the grade each states (None: it gives none)
    region: str = ""


@dataclass(frozen=True)
class TableResult:
    filter: TableFilter
    rows: tuple[TableRow, ...]
    considered: int = 0                                   # authorities looked at
    reports: tuple[Report, ...] = field(default=(), repr=False)   # what was selected from
    without_grade: tuple[str, ...] = ()                  # authorities whose report in scope gives no such grade
    ungraded: tuple[Report, ...] = field(default=(), repr=False)   # those reports


def inspections(reports: Sequence[Report], frameworks: frozenset[str] = frozenset()) -> dict[str, list[Report]]:
    """Each authority's graded inspection reports, oldest first."""
    kinds = frameworks or frozenset(CHILDRENS_SERVICES_TYPES)
    out: dict[str, list[Report]] = {}
    for report in reports:
        if report.authority and report.report_type in kinds:
            out.setdefault(report.authority, []).append(report)
    return {a: sorted(rs, key=report_day) for a, rs in sorted(out.items())}


def report_day(report: Report) -> str:
    return report.date or report.inspection_end or ""


def judgement_of(report: Report, area: str) -> Judgement | None:
    """The report's grade for the area (or its namesake in the report's framework)."""
    family = same_area(area)
    return next((j for j in report.judgements if j.area in family and not j.service), None)


def select(reports: Sequence[Report], wanted: TableFilter) -> TableResult:
    by_authority = inspections(reports, wanted.frameworks)
    rows: list[TableRow] = []
    without: list[str] = []
    ungraded: list[Report] = []
    considered = 0
    for authority, mine in by_authority.items():
        place = facts(authority)
        if wanted.region and (place is None or place.region != wanted.region):
            continue
        if wanted.authorities and authority not in wanted.authorities:
            continue
        considered += 1
        dated = [r for r in mine if _in_window(r, wanted)]
        if wanted.change:
            rows += _changes(authority, mine, wanted, place.region if place else "")
            continue
        if wanted.every:
            graded = [(r, judgement_of(r, wanted.area)) for r in mine]
            graded = [(r, j) for r, j in graded if j is not None]
            if len(graded) >= wanted.min_reports and all(j.grade in wanted.grades for _, j in graded):
                rows.append(TableRow(authority, tuple(r for r, _ in graded), tuple(j for _, j in graded),
                                     place.region if place else ""))
            continue
        for report in (dated[-1:] if wanted.scope == "latest" else dated):
            stated = _stated(report, wanted)
            if stated is None:
                without += [] if authority in without else [authority]
                ungraded.append(report)
                if NO_GRADE in wanted.grades:
                    rows.append(TableRow(authority, (report,), (), place.region if place else ""))
                continue
            if not wanted.grades or all(j.grade in wanted.grades for j in stated):
                rows.append(TableRow(authority, (report,), stated, place.region if place else ""))
    return TableResult(wanted, tuple(rows), considered, tuple(reports), tuple(without), tuple(ungraded))


def _stated(report: Report, wanted: TableFilter) -> tuple[Judgement, ...] | None:
    """The judgements the filter looks at in one report: its one area, or every graded area ('*')."""
    if wanted.area == EVERY_AREA:
        found = tuple(j for j in report.judgements if not j.service)
        return found or None
    judgement = judgement_of(report, wanted.area)
    return (judgement,) if judgement else None


def _in_window(report: Report, wanted: TableFilter) -> bool:
    day = report_day(report)
    return (not wanted.since or day >= wanted.since) and (not wanted.until or day <= wanted.until)


def _changes(authority: str, mine: list[Report], wanted: TableFilter, region: str) -> list[TableRow]:
    """Consecutive inspections (of those with the grade) going from one grade to another; with a time
    window, the later one must fall in it."""
    graded = [(r, judgement_of(r, wanted.area)) for r in mine]
    graded = [(r, j) for r, j in graded if j is not None]
    start, end = wanted.change
    rows = []
    for (before, j1), (after, j2) in zip(graded, graded[1:]):
        if j1.grade in start and j2.grade in end and _in_window(after, wanted):
            rows.append(TableRow(authority, (before, after), (j1, j2), region))
    if wanted.scope == "latest":
        rows = [row for row in rows if row.reports[-1] is graded[-1][0]] if graded else []
    return rows


def select_any_grade(found: TableResult, wanted: TableFilter) -> TableResult:
    """The same authorities and reports as `wanted`, whatever their grade: what they were graded instead."""
    return select(found.reports, replace(wanted, grades=frozenset()))


# ---- the grid: one row per report, the main areas as columns --------------------------------------------

GRID_AREAS = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "children_in_care", "care_leavers")
GRID_HEADERS = ("Overall", "Leaders", "Help and protection", "In care", "Care leavers")


@dataclass(frozen=True)
class GridRow:
    report: Report
    region: str
    cells: tuple[Judgement | None, ...]         # one per GRID_AREAS (a namesake area counts)


def grid(reports: Sequence[Report], wanted: TableFilter) -> list[GridRow]:
    """The reports the filter selects (its area and grades only narrow which reports, when given), each
    with its grade for every main area, ordered by authority then date."""
    area = wanted.area if wanted.grades else EVERY_AREA
    found = select(reports, replace(wanted, area=area))
    rows = []
    for row in found.rows:
        for report in row.reports:
            rows.append(GridRow(report, row.region, tuple(judgement_of(report, a) for a in GRID_AREAS)))
    return rows


def short_grade(grade: str) -> str:
    return {"requires improvement": "RI", "inadequate": "Inadequate", "outstanding": "Outstanding",
            "good": "Good", "adequate": "Adequate"}.get(grade, grade)


def grid_csv(rows: Sequence[GridRow]) -> str:
    """The grid as CSV, one line per report: its facts, then grade and citing paragraph per area."""
    import csv
    import io
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["authority", "region", "report", "file", "framework", "variant", "published", "inspection_start",
                     "inspection_end", *(f"{a}{suffix}" for a in GRID_AREAS for suffix in ("", "_paragraph"))])
    for row in rows:
        r = row.report
        cells = [x for j in row.cells for x in ((j.grade, j.paragraph_id) if j else ("", ""))]
        writer.writerow([r.authority, row.region, r.id, r.file, r.report_type, r.variant, r.published or r.date or "",
                         r.inspection_start or "", r.inspection_end or "", *cells])
    return out.getvalue()


# ---- what a later report says changed --------------------------------------------------------------------

_CHANGE = re.compile(r"\bsince (?:the|its|their) (?:last|previous) (?:full )?inspection\b"
                     r"|\bsince\b[^.;]{0,60}\b(?:19|20)\d\d\b[^.;]{0,40}\bwhen\b"
                     r"|\b(?:at|in) (?:the|its|their) (?:last|previous) inspection\b[^.;]{0,60}\bjudged\b"
                     r"|\b(?:no longer|remain(?:s|ed)?|continue[sd]? to be) (?:inadequate|outstanding|good)\b", re.I)
CHANGE_SEARCH_PARAGRAPHS = 40      # the summary at the top of a report is where it says what changed


def change_statement(report: Report) -> tuple[str, str] | None:
    """(paragraph id, sentence) of the report's own statement of what changed since its last inspection
    ('Since the last inspection in 2018, when services were good, there has been a deterioration'), from
    its opening summary; None when it makes none."""
    for paragraph in report.paragraphs[:CHANGE_SEARCH_PARAGRAPHS]:
        for sentence in split_sentences(paragraph.text):
            if _CHANGE.search(sentence) and len(sentence.split()) >= 6:
                return paragraph.id, sentence
    return None


_NOT_HEADLINE = re.compile(r"^(?:Inspection dates?|Lead inspector|Reports? published|Judgement\b|\d+\s+Ofsted produces)",
                           re.I)
# Sections of a report's opening that describe the area or earlier inspections, never this report's summary.
_NOT_SUMMARY_SECTION = re.compile(r"\b(?:previous|earlier|last)\b.*\binspections?\b|information about|"
                                  r"other information|children living in|about this (?:inspection|area)"
                                  r"|judge?ments (?:and )?what they mean", re.I)
_CONTEXT_SECTION = re.compile(r"^service information$", re.I)    # the area's facts, as the section's own heading
HEADLINE_SEARCH_PARAGRAPHS = 12


def headline(report: Report) -> tuple[str, str] | None:
    """(paragraph id, first sentence) of the report's headline summary: the first full paragraph of its
    opening that is not a grade table, the inspection's dates or a section about the area or an earlier
    inspection ('Children in Bromley receive exceptionally strong services.', or under 'Children's services
    in Sunderland are inadequate', 'There are widespread and serious failures ...'); None when it has none."""
    def summarises(p: Paragraph) -> bool:
        return not any(_NOT_SUMMARY_SECTION.search(h) for h in p.headings) and not (
            p.headings and _CONTEXT_SECTION.match(p.headings[-1]))

    opening = [p for p in report.paragraphs if summarises(p)][:HEADLINE_SEARCH_PARAGRAPHS]
    return _first_full_paragraph(opening, lambda p: True, report.year)


def area_summary(report: Report, area: str) -> tuple[str, str] | None:
    """(paragraph id, first sentence) of the first full paragraph of the section that judges `area`, whose
    heading names it ('The experiences and progress of care leavers: inadequate' -> 'The quality of support
    provided to care leavers is inadequate.'); the report's headline for overall effectiveness, and None
    when no section heading names the area."""
    if area not in AREAS or area == "overall_effectiveness":
        return headline(report)
    names_area = re.compile(rf"\b(?:{AREAS[area][1]})\b", re.I)
    return _first_full_paragraph(report.paragraphs, lambda p: bool(p.headings and names_area.search(p.headings[-1])),
                                 report.year)


def _first_full_paragraph(paragraphs: Sequence[Paragraph], wanted: Callable[[Paragraph], bool],
                          year: int | None = None) -> tuple[str, str] | None:
    """(id, sentence) of the first paragraph that `wanted` accepts with eight words or more of its own: not
    counting the lines that open a judgement box (the inspection's dates, its lead inspector, the judgement
    it explains, which is also its heading) nor a paragraph that only repeats its heading. The sentence is its
    first one that does more than recount an earlier inspection's grade ('At the last inspection, in May
    2019, the local authority was judged to be requires improvement to be good')."""
    for paragraph in paragraphs:
        if paragraph.kind != "paragraph" or not wanted(paragraph):
            continue
        titles = {h.rstrip(".") for h in paragraph.headings}
        lines = paragraph.text.strip().split("\n")
        while lines and (_NOT_HEADLINE.match(lines[0]) or len(lines) > 1 and lines[0].strip().rstrip(".") in titles):
            lines.pop(0)
        body = "\n".join(lines)
        if len(body.split()) < 8 or body in paragraph.headings or not _ENDS_SENTENCE.search(body) \
                or body[:1].islower():
            continue                        # too short, its heading again, a title ('... care leavers and'), or
                                            # the end of a sentence a page break cut ('know their young people')
        sentence = next((s for s in split_sentences(body) or [body]
                         if not recounts_earlier_grade(s, year) and not _ABOUT_THE_REPORT.search(s)), None)
        if sentence is not None:
            return paragraph.id, sentence
    return None


# A sentence about the report itself, not its findings ('This executive summary should be read alongside the
# recommendations in the next section of this report.').
_ABOUT_THE_REPORT = re.compile(r"\b(?:should be read|read alongside|is (?:structured|divided|organised))\b"
                               r"|\b(?:relevant|following|numbered) paragraphs?\b|\bparagraph\(s\)"
                               r"|\b(?:next|following|previous) section of this report\b", re.I)
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)]?\s*$")
_CHANGE_WORD = re.compile(r"\b(?:since|improv\w*|deteriorat\w*|declin\w*|sustain\w*|maintain\w*|strengthen\w*"
                          r"|weaken\w*|worse|better|progress\w*|remain\w*|now)\b", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")


def recounts_earlier_grade(sentence: str, year: int | None = None) -> bool:
    """A sentence that only gives the grade of an earlier inspection ('Halton was inspected in March 2020 and
    was judged to be requires improvement to be good'), saying nothing of what this inspection found."""
    if not GRADE_WORD.search(sentence) or _CHANGE_WORD.search(GRADE_WORD.sub(" ", sentence)):
        return False
    earlier_year = year is not None and any(int(y) < year for y in _YEAR.findall(sentence))
    return bool(earlier_year or EARLIER_INSPECTION.search(sentence))


def earlier_inspection_statements(report: Report, year: str, limit: int = 2) -> list[tuple[str, str]]:
    """(paragraph id, sentence) of what the report says about its authority's inspection in `year`, an
    earlier one ('Child protection arrangements were last inspected in July 2012 and were judged to be
    adequate.'): the corpus may lack that report while a later one records its outcome."""
    found: list[tuple[str, str]] = []
    for paragraph in report.paragraphs:
        if year not in paragraph.text:
            continue
        for sentence in split_sentences(paragraph.text):
            if year in sentence and EARLIER_INSPECTION.search(sentence):
                found.append((paragraph.id, sentence))
                if len(found) == limit:
                    return found
    return found
