"""Answers that come straight from data: graded judgements of one or a few authorities (a timeline, a
report's grades and its own summary) and questions about the whole country (the judgements table), each
line citing the paragraph that states it."""
from __future__ import annotations

from collections.abc import Sequence

from rag.answer.plans import Group, Plan, PlanMode
from rag.answer.verdict import verdict
from rag.answer.verify import Passage
from rag.ofsted.frameworks import NO_OVERALL_GRADE
from rag.ofsted.grades import AREAS, GRADE_ORDER
from rag.ofsted.table import (EVERY_AREA, NO_GRADE, TableResult, area_summary, change_statement, headline,
                              earlier_inspection_statements, report_day, select, select_any_grade)
from rag.records import Hit, Judgement, Report
from rag.search.national import NationalQuestion
from rag.search.reports import describe_report, inspection_reports
from rag.search.retrieval import Searcher, SearchResult
from rag.text.words import join_names


def judgement_plan(question: str, standalone: str, result: SearchResult, rows: list[Judgement],
                   searcher: Searcher, areas: Sequence[str] = (), earlier_years: Sequence[str] = ()) -> Plan:
    """One line per report and area asked, each citing the paragraph that states the grade; several
    reports of one authority (a timeline) in date order, with a table of them."""
    query = result.query
    reports = [searcher.index.reports[rid] for rid in dict.fromkeys(result.reports)]
    inspected = sorted((r for r in reports if r.report_type.startswith("ofsted")), key=report_day)
    authorities = query.authorities or tuple(dict.fromkeys(r.authority for r in inspected if r.authority))
    areas = areas or query.judgement_areas or ((query.judgement_area,) if query.judgement_area else
                                                tuple(dict.fromkeys(j.area for j in rows)))
    label = " or ".join(AREAS[a][0].lower() for a in areas if a in AREAS)
    cite = Citer(searcher)
    lines: list[str] = []
    timeline: list[tuple[str, ...]] = []
    every = list(searcher.index.reports.values())
    first_inspections = {mine[0].id for a in authorities
                         if (mine := inspection_reports([r for r in every if r.authority == a]))}
    for authority in authorities:
        mine = [r for r in inspected if r.authority == authority]
        for report in mine:
            stated = [j for j in rows if j.report == report.id]
            when = f"{authority} ({year_of(report_day(report))})"
            if stated:
                for j in stated:
                    lines.append(f"{when}: {j.label} — {grade_phrase(j)} [{cite(j)}].")
                    timeline.append((authority, describe_report(report), j.label, grade_phrase(j)))
                # One or two areas asked: the report's own summary beside each grade, of the area as this
                # report names it ('children in care and care leavers' answers a question on care leavers).
                graded = list(dict.fromkeys(j.area for j in stated))
                for area in ([a for a in graded if a in areas] or graded)[:2] if len(areas) <= 2 else ():
                    lines += cite.summary(when, report, area)
                if len(areas) > 2:                          # every grade: the report's headline beside them
                    lines += cite.summary(when, report, "overall_effectiveness", or_headline=True)
                if report.id not in first_inspections:
                    lines += cite.change(when, report)      # what this report says changed since the last one
                for year in earlier_years:                  # a report the corpus lacks, as a later one records it
                    lines += [f"{when}, on the {year} inspection: {sentence.rstrip('.')} [{cite(pid)}]."
                              for pid, sentence in earlier_inspection_statements(report, year)]
            elif "overall_effectiveness" in areas and NO_OVERALL_GRADE in report.variant:
                graded = [j for j in report.judgements if not j.service]
                lines.append(f"{when}: the report gives no overall effectiveness grade: Ofsted stopped grading "
                             f"overall effectiveness for inspections from April 2026.")
                lines += [f"{when}: {j.label} — {grade_phrase(j)} [{cite(j)}]." for j in graded]
                lines += cite.summary(when, report, "overall_effectiveness")    # its own words, in lieu of a grade
                if report.id not in first_inspections:
                    lines += cite.change(when, report)
                timeline.append((authority, describe_report(report), "Overall effectiveness", "not graded (from April 2026)"))
            else:
                lines.append(f"{when}: the report does not state a grade for {label}.")
        if not mine:
            lines.append(f"{authority}: the report does not state a grade for {label}.")
    table = (("Authority", "Report", "Judgement", "Grade"), *timeline) \
        if len({(t[0], t[1]) for t in timeline}) > 1 and len(authorities) == 1 else ()
    group = Group(None, tuple(cite.passages), standalone)
    inspected_ids = {r.id for r in inspected}
    stated = [j for j in rows if j.report in inspected_ids]
    return Plan(question, standalone, result, PlanMode.JUDGEMENT, (group,), text="\n".join(lines),
                judgements=tuple(rows), table=table, verdict="" if earlier_years else verdict(standalone, stated))


class Citer:
    """Passage keys for the paragraphs that state grades, one key per paragraph."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.passages: list[Passage] = []
        self._keys: dict[str, int] = {}

    def __call__(self, judgement: Judgement | str) -> int:
        """The key of the paragraph stating a judgement (or of a paragraph id)."""
        pid = judgement if isinstance(judgement, str) else judgement.paragraph_id
        if pid not in self._keys:
            paragraph = self.searcher.index.paragraph(pid)
            passage = Passage(len(self.passages) + 1, Hit(paragraph, self.searcher.index.report_of(paragraph), 1.0))
            self.passages.append(passage)
            self._keys[pid] = passage.key
        return self._keys[pid]

    def summary(self, when: str, report: Report, area: str, or_headline: bool = False,
                headline_too: bool = False) -> list[str]:
        """The report's own summary of an area (its headline for overall effectiveness; also for an area
        it has no section on, when `or_headline`), as a cited line; with `headline_too`, its headline after."""
        lines = self._quoted(when, area_summary(report, area) or (headline(report) if or_headline else None))
        return lines + (self._quoted(when, headline(report)) if headline_too else [])

    def _quoted(self, when: str, found: tuple[str, str] | None) -> list[str]:
        if found is None or found[0] in self._keys:
            return []
        pid, sentence = found
        return [f"{when}: {sentence.rstrip('.')} [{self(pid)}]."]

    def change(self, when: str, report: Report) -> list[str]:
        """The report's own words on what changed since its last inspection, as a cited line."""
        return self._quoted(when, change_statement(report))


HEADLINE_ROWS = 12          # a table answer this short also quotes each report's own summary of the area
SHORT_LIST = 5              # and this short, its headline too (what Ofsted concluded of the whole service)


def table_plan(question: str, standalone: str, result: SearchResult, national: NationalQuestion,
               searcher: Searcher) -> Plan:
    """A question about many authorities, answered from the judgements table: what the filter was read
    as, how many rows, and one line per row citing the paragraph that states each grade."""
    found = select(list(searcher.index.reports.values()), national.filter)
    cite = Citer(searcher)
    lines: list[str] = []
    rows: list[tuple[str, ...]] = [("Authority", "Region", "Report", "Judgement", "Grade")]
    leads: list[int] = []       # a change's best evidence: the later report's own words on what changed
    for row in found.rows:
        for report, judgement in zip(row.reports, row.judgements or (None,) * len(row.reports)):
            when = f"{row.authority} ({year_of(report_day(report))})"
            if judgement is None:
                lines.append(f"{when}: the report gives no {area_label(national.filter.area)} grade.")
                graded = next((j for j in report.judgements if not j.service), None)
                if graded is not None:      # its grade table, cited: the grades it does give
                    lines.append(f"{when}: {graded.label} — {grade_phrase(graded)} [{cite(graded)}].")
                if len(found.rows) <= HEADLINE_ROWS:    # and its own words, in lieu of the grade
                    lines += cite.summary(when, report, "overall_effectiveness")
                rows.append((row.authority, row.region, describe_report(report), area_label(national.filter.area),
                             "no grade"))
                continue
            lines.append(f"{when}: {judgement.label} — {grade_phrase(judgement)} [{cite(judgement)}].")
            rows.append((row.authority, row.region, describe_report(report), judgement.label, grade_phrase(judgement)))
            if len(row.reports) > 1 and report is row.reports[-1]:
                change = cite.change(when, report)          # a change: what the later report says changed
                lines += change
                leads += [cite.passages[-1].key] if change else []
            elif len(found.rows) <= HEADLINE_ROWS:
                lines += cite.summary(when, report, judgement.area, or_headline=True,   # a short list: summaries too
                                      headline_too=len(found.rows) <= SHORT_LIST)
    count = len({row.authority for row in found.rows})
    noun = "authority" if count == 1 else "authorities"
    preface = f"I read this as: {national.filter.describe()}."
    if national.anchor:
        preface += f" {national.anchor}'s statistical neighbours are {join_names(sorted(national.filter.authorities - {national.anchor}))}."
    if count:
        preface += f" {count} {noun} match{'es' if count == 1 else ''}: {join_names(sorted({r.authority for r in found.rows}))}."
    else:
        preface += f" No authority matches, of the {found.considered} considered."
        lines += _nearest_grades(found, national, cite)
    notes = ()
    if found.without_grade and national.filter.grades and NO_GRADE not in national.filter.grades:
        whose = "latest reports give" if national.filter.scope == "latest" else "reports in scope give"
        notes = (f"{len(found.without_grade)} authorities' {whose} no such grade and are not counted: "
                 f"{join_names(list(found.without_grade))}.",)
        lines += _graded_otherwise(found, national, cite)
    # What the answer rests on, best first: for changes, each row's own words on the change (they state both
    # grades), then the rest in the order cited.
    first = {key: i for i, key in enumerate(dict.fromkeys(leads))}
    passages = sorted(cite.passages, key=lambda p: (p.key not in first, first.get(p.key, p.key)))
    group = Group(None, tuple(passages), standalone)
    return Plan(question, standalone, result, PlanMode.TABLE, (group,), text="\n".join(lines),
                preface=preface, notes=notes, table=tuple(rows) if len(rows) > 1 else ())


def _graded_otherwise(found: TableResult, national: NationalQuestion, cite: Citer) -> list[str]:
    """Reports without the grade asked for (no overall effectiveness grade from April 2026) that give the
    grade asked in another area: 'none was inadequate overall' would hide an inadequate for leadership."""
    lines: list[str] = []
    for report in found.ungraded:
        hits = [j for j in report.judgements if not j.service and j.grade in national.filter.grades]
        if hits and len(lines) < HEADLINE_ROWS:
            when = f"{report.authority} ({year_of(report_day(report))})"
            lines.append(f"{when}: no {area_label(national.filter.area)} grade; "
                         + "; ".join(f"{j.label} — {grade_phrase(j)}" for j in hits) + f" [{cite(hits[0])}].")
            lines += cite.summary(when, report, "overall_effectiveness")     # its own words on the whole service
    return lines


def _nearest_grades(found: TableResult, national: NationalQuestion, cite: Citer) -> list[str]:
    """With no match, what the authorities considered were graded instead, worst first: 'none was
    inadequate' is half an answer without it."""
    wanted = national.filter
    if wanted.change or wanted.every or not wanted.grades or wanted.area == EVERY_AREA:
        return []
    others = select_any_grade(found, wanted)
    worst = sorted(others.rows, key=lambda r: -GRADE_ORDER.index(r.judgements[0].grade)
                   if r.judgements and r.judgements[0].grade in GRADE_ORDER else 0)
    if not worst:
        return []
    lowest = worst[0].judgements[0].grade
    nearest = [row for row in worst if row.judgements and row.judgements[0].grade == lowest]
    lines: list[str] = []
    for row in nearest:
        when, judgement = f"{row.authority} ({year_of(report_day(row.reports[0]))})", row.judgements[0]
        lines.append(f"{when}: {judgement.label} — {grade_phrase(judgement)} [{cite(judgement)}].")
        if len(nearest) <= HEADLINE_ROWS:       # a short list: each report's own summary too
            lines += cite.summary(when, row.reports[0], judgement.area, or_headline=True,
                                  headline_too=len(nearest) <= SHORT_LIST)
    return lines


def area_label(area: str) -> str:
    return AREAS[area][0].lower() if area in AREAS else "such"


def year_of(when: str) -> str:
    return when[:4] if when else "undated"


def grade_phrase(j: Judgement) -> str:
    return f"{j.grade} (Grade {j.grade_number})" if j.grade_number else j.grade

