"""Which of an authority's reports a question means. Questions name inspection years, publication years
("the 2018 inspection, published 2019"), months, "latest", "previous", "earliest", "before the
re-inspection", or a span ("from 2015 to 2025", "since 2016"). With no date named, the latest inspection
is the one, and the answer says so and that older reports exist. A date the corpus has no report for is
said plainly, and the nearest report is offered, labelled as such.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rag.ofsted.table import GRADED_TYPES, report_day
from rag.records import REPORT_TYPES, Report
from rag.search.grammar import MONTH, YEAR, year_mentions
from rag.text.words import MONTHS

_MONTH_NUMBER = {name[:3]: n for n, name in enumerate(MONTHS, start=1)}
_TIMELINE = re.compile(r"\b(?:chang(?:e|ed|es|ing)|moved?|trace|evolv(?:e|ed)|trend|over time|through(?:out)?"
                       r"|(?:across|over|during) (?:its|their|the) (?:\w+ ){0,2}inspections|history|trajectory"
                       r"|progress(?:ed)? from"
                       r"|each (?:of (?:its|their) )?(?:\w+ )?inspections?|all (?:of )?(?:its|their) (?:\w+ )?inspections"
                       r"|every inspection|walk me through|how (?:has|have) .{0,60} (?:grade|judge?ment|rating)s?"
                       r"|repeatedly|recurr\w*|time and again|each time"
                       r"|what (?:overall )?grades has|(?:over|across|down|through(?:out)?) the years"
                       r"|(?:has|have|was|were|did)\s+(?:[\w'’-]+\s+){1,5}?ever)\b", re.I)
_LATEST = re.compile(r"\b(?:latest|most recent|current(?:ly)?|newest|last inspection|now)\b", re.I)
# 'the previous inspection', not 'since the previous inspection' (what changed) nor 'in the previous 18 months'.
_PREVIOUS = re.compile(r"(?<!since the )(?<!since its )(?<!since their )(?<!since a )"
                       r"\b(?:(?:previous|prior)(?!\s+(?:\d+|\w+teen|two|three|four|five|six|few|several)?\s*"
                       r"(?:years?|months?|weeks?|days?|quarters?)\b)"
                       r"|before (?:its|the|their) (?:most recent|latest|last)|the one before|penultimate|last but one)\b",
                       re.I)
_EARLIEST = re.compile(r"\b(?:earliest|first|oldest)\b", re.I)
_BEFORE_REINSPECTION = re.compile(rf"\bbefore\s+(?:its|the|their|[A-Z][\w ,'’-]{{0,40}}?['’]s)\s+(?:({YEAR})\s+)?"
                                  rf"re-?inspection\b", re.I)
_PUBLISHED = re.compile(rf"\b(?:published|came out|report(?:ed)?|released)\b[^.?;]{{0,30}}?\b(?:in\s+)?"
                        rf"(?:({MONTH})\s+)?({YEAR})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b({MONTH})\s+({YEAR})\b", re.I)
# 'from 2015 to 2022', 'between its 2014 inspection and its 2023 one', 'from its 2015 inspection through to 2026'
_SPAN = re.compile(rf"\b(?:from|between)\s+(?:(?:its|the|their)\s+)?({YEAR})(?:\s+[\w-]+){{0,2}}?\s+"
                   rf"(?:to|and|until|through(?:\s+to)?)\s+(?:(?:its|the|their)\s+)?({YEAR})\b"
                   rf"|\b(since|after|before|until)\s+(?:(?<=since\s)(?:its|the|their)\s+)?({YEAR})\b", re.I)
# A framework named ('its first ILACS inspection', 'the SIF report', 'the latest focused visit'): the reports of
# that framework only, so 'first', 'latest' and 'each' count among them.
_FRAMEWORKS = (
    (re.compile(r"\bILACS\b|\binspections? of local authority children['’]?s services\b", re.I), ("ofsted_ilacs",)),
    (re.compile(r"\bSIF\b|\bsingle inspection(?: framework)?\b", re.I), ("ofsted_sif",)),
    (re.compile(r"\bfocused visits?\b", re.I), ("ofsted_focused_visit",)),
    (re.compile(r"\bmonitoring visits?\b", re.I), ("ofsted_monitoring_visit",)),
    (re.compile(r"\bJTAIs?\b|\bjoint targeted area inspections?\b", re.I), ("ofsted_jtai",)),
)
_FRAMEWORK_NAMES = {"ofsted_ilacs": "ILACS inspection", "ofsted_sif": "SIF inspection",
                    "ofsted_focused_visit": "focused visit", "ofsted_monitoring_visit": "monitoring visit",
                    "ofsted_jtai": "joint targeted area inspection"}
# 'the inspection after 2017' (a follow-up's 'its next inspection', anchored by the rewrite to the year of the
# report the conversation was about): the one report after (or before) that year, not a span.
_RELATIVE = re.compile(rf"\b(?:inspection|report|visit)\s+(after|before)\s+({YEAR})\b", re.I)
_COMPARED = re.compile(r"\bcompar\w*|\bdiffer\w*|\bversus\b|\bvs\b|\b(?:better|worse) than\b|\bbetter or worse\b",
                       re.I)
_ANY_YEAR = re.compile(rf"(?<![\d£$.,]){YEAR}(?![\d%]|,\d)")


@dataclass(frozen=True)
class DateCue:
    """What a question says about which report it means."""
    years: tuple[int, ...] = ()                    # years of a report (inspected or published)
    published: tuple[tuple[int, int | None], ...] = ()   # (year, month or None) of publication
    months: tuple[tuple[int, int], ...] = ()       # (year, month) of inspection or publication
    position: str = ""                             # latest | previous | earliest | before-reinspection
                                                   # | after:YEAR | before:YEAR (the one report next to it)
    since: int | None = None
    until: int | None = None
    timeline: bool = False
    frameworks: tuple[str, ...] = ()               # report types the question names ('ILACS', 'SIF')
    with_anchor: bool = False                      # after:/before:YEAR compared with the YEAR report itself

    @property
    def named(self) -> bool:
        return bool(self.years or self.published or self.months or self.position or self.since or self.until)


def date_cue(question: str) -> DateCue:
    relative = _RELATIVE.search(question)
    # 'How did that compare with the previous inspection?': that one and the one the conversation was about.
    with_anchor = bool(relative) and bool(_COMPARED.search(question))
    if relative:
        question = question[:relative.start()] + question[relative.end():]
    published = tuple((int(m.group(2)), _month(m.group(1))) for m in _PUBLISHED.finditer(question))
    months = tuple((int(m.group(2)), _month(m.group(1))) for m in _MONTH_YEAR.finditer(question))
    since = until = None
    spans = list(_SPAN.finditer(question))
    for m in spans:
        if m.group(1):
            since, until = int(m.group(1)), int(m.group(2))
        elif m.group(3).lower() in ("since", "after"):
            since = int(m.group(4)) + (1 if m.group(3).lower() == "after" else 0)
        else:
            until = int(m.group(4)) - (1 if m.group(3).lower() == "before" else 0)
    span_years = {int(y) for m in spans for y in m.groups() if y and y.isdigit()}
    years = tuple(dict.fromkeys(int(y) for y in _ANY_YEAR.findall(question)
                                if int(y) not in span_years and 2005 <= int(y) <= 2035))
    # 'without a social worker in December 2014, and how far had that fallen by the 2015 inspection': when
    # the question names a report's year, a year that dates data names no report.
    mentioned = year_mentions(question)
    report_years = {y.year for y in mentioned if y.role != "data"}
    if report_years and any(y.role == "data" for y in mentioned):
        data_only = {y.year for y in mentioned if y.role == "data"} - report_years
        years = tuple(y for y in years if y not in data_only)
        months = tuple(m for m in months if m[0] not in data_only)
    position = (f"{relative.group(1).lower()}:{relative.group(2)}" if relative else
                "before-reinspection" if _BEFORE_REINSPECTION.search(question) else
                "previous" if _PREVIOUS.search(question) and not years else
                "earliest" if _EARLIEST.search(question) and not years else
                "latest" if _LATEST.search(question) else "")
    timeline = bool(_TIMELINE.search(question)) or len(years) >= 2 or (since is not None and until is None
                                                                      and position == "") \
        or (since is not None and until is not None)
    if relative or position in ("previous", "earliest", "before-reinspection") \
            or published and len(years) <= 2 and not spans:
        timeline = timeline and len(years) >= 3
    frameworks = tuple(t for pattern, types in _FRAMEWORKS if pattern.search(question) for t in types)
    return DateCue(years, published, months, position, since, until, timeline, frameworks, with_anchor)


def _month(text: str | None) -> int | None:
    return _MONTH_NUMBER.get(text[:3].lower()) if text else None


@dataclass(frozen=True)
class ReportChoice:
    """The reports of one authority an answer uses, and what to tell the reader about the choice."""
    authority: str
    reports: tuple[Report, ...]            # oldest first
    note: str = ""                         # which report was used, and what else exists
    missing: str = ""                      # what was asked for and is not in the corpus ("a 2024 report")
    timeline: bool = False
    others: tuple[Report, ...] = ()        # the authority's other inspection reports
    missing_years: tuple[int, ...] = ()    # the years asked for that no report of the authority has


def inspection_reports(reports: Sequence[Report]) -> list[Report]:
    """Ofsted's reports among these, oldest first."""
    return sorted((r for r in reports if r.report_type.startswith("ofsted")), key=report_day)


def choose(authority: str, reports: Sequence[Report], cue: DateCue, *, graded: bool = False) -> ReportChoice:
    """The reports of `authority` (all its reports given) a question with this cue means. `graded`: only
    inspections that give graded judgements count (a grade question)."""
    inspections = inspection_reports(reports)
    framed = [r for r in inspections if r.report_type in cue.frameworks]
    if framed:
        inspections = framed
    elif graded:
        inspections = [r for r in inspections if r.report_type in GRADED_TYPES] or inspections
    if not inspections:
        return ReportChoice(authority, tuple(reports))
    kind = " or ".join(_FRAMEWORK_NAMES[t] for t in cue.frameworks) if framed else ""
    every = sorted(reports, key=report_day)
    documents = [r for r in every if not r.report_type.startswith("ofsted")]
    if cue.timeline:
        # Several dates: each inspection of them, and a council's own documents of those years too.
        if cue.since or cue.until:
            chosen = [r for r in inspections if _in_span(r, cue)]
        elif len(cue.years) >= 2:
            chosen = sorted([r for r in (*inspections, *documents) if _year_match(r, cue.years)], key=report_day)
            if cue.position == "latest" and inspections[-1] not in chosen:
                chosen.append(inspections[-1])          # '2014, 2018 and most recent inspections'
        else:
            chosen = list(inspections)
        chosen = chosen or list(inspections)
        absent = [y for y in cue.years if not any(_year_match(r, (y,)) for r in inspections)]
        missing = _say_years(absent) if absent else ""
        note = f"The corpus has no {missing} report on {authority}." if missing else ""
        return ReportChoice(authority, tuple(chosen), note, missing, True, _except(inspections, chosen), tuple(absent))
    if cue.position == "before-reinspection":
        marker = cue.years[0] if cue.years else None
        later = [i for i, r in enumerate(inspections) if "re-inspection" in r.variant
                 and (marker is None or _year_match(r, (marker,)))]
        at = later[0] if later else len(inspections) - 1
        return _picked(authority, inspections, [inspections[at - 1]] if at > 0 else [],
                       "the inspection before the re-inspection")
    if cue.position.startswith(("after:", "before:")):
        side, anchor = cue.position.split(":")
        later = [r for r in inspections if min(_years_of(r), default=0) > int(anchor)]
        earlier = [r for r in inspections if max(_years_of(r), default=9999) < int(anchor)]
        picked = later[:1] if side == "after" else earlier[-1:]
        anchored = [r for r in inspections if _year_match(r, (int(anchor),))][-1:] if cue.with_anchor else []
        if picked and anchored:
            both = sorted({r.id: r for r in (*picked, *anchored)}.values(), key=report_day)
            return ReportChoice(authority, tuple(both), f"The {kind or 'inspection'} {side} {anchor} on {authority}, "
                                f"beside the {anchor} one: {describe_report(picked[0])}.", "", True,
                                _except(inspections, both))
        return _picked(authority, inspections, picked, f"the {kind or 'inspection'} {side} {anchor}")
    if cue.position == "previous":
        return _picked(authority, inspections, inspections[-2:-1], f"the {kind or 'inspection'} before the latest")
    if cue.position == "earliest" and not cue.years:
        return _picked(authority, inspections, inspections[:1], f"the earliest {kind or 'report'}")
    # A date can name any of the authority's reports (a council's own 2017 report too).
    wanted = [r for r in every if _matches(r, cue) and (r in inspections or not r.report_type.startswith("ofsted"))]
    if cue.years or cue.published or cue.months:
        asked = _asked(cue)
        if wanted:
            return ReportChoice(authority, tuple(wanted), "", "", False, _except(inspections, wanted))
        around = _either_side(inspections, cue)
        if around:
            # 'Its 2016 grade' between inspections in 2014 and 2018: the reader needs both.
            note = (f"The corpus has no {asked} report on {authority}. The nearest are its "
                    f"{describe_report(around[0])} and its {describe_report(around[1])}; what follows is from "
                    f"those reports, not from {asked}.")
            return ReportChoice(authority, around, note, asked, False, _except(inspections, around),
                                _asked_years(cue))
        nearest = _nearest(inspections, cue)
        note = (f"The corpus has no {asked} report on {authority}. The nearest is its "
                f"{describe_report(nearest)}; what follows is from that report, not from {asked}.")
        return ReportChoice(authority, (nearest,), note, asked, False, _except(inspections, [nearest]),
                            _asked_years(cue))
    latest, older = inspections[-1], inspections[:-1]
    note = ""
    if older:       # with one report there is no choice to explain
        note = (f"From the latest report on {authority}: {describe_report(latest)}. The corpus also has {len(older)} "
                f"earlier report{'s' if len(older) > 1 else ''} ({', '.join(_when(r) for r in older)}): name a "
                f"year to ask about one.")
    return ReportChoice(authority, (latest,), note, "", False, tuple(older))


def _picked(authority: str, inspections: list[Report], chosen: list[Report], what: str) -> ReportChoice:
    if not chosen:
        return ReportChoice(authority, tuple(inspections[-1:]), f"The corpus has no {what} for {authority}; "
                            f"its only inspection report is the {describe_report(inspections[-1])}.", what, False)
    return ReportChoice(authority, tuple(chosen), f"{what[:1].upper()}{what[1:]} on {authority}: "
                        f"{describe_report(chosen[0])}.", "", False, _except(inspections, chosen))


def _except(inspections: Sequence[Report], chosen: Sequence[Report]) -> tuple[Report, ...]:
    ids = {r.id for r in chosen}
    return tuple(r for r in inspections if r.id not in ids)


def _years_of(report: Report) -> set[int]:
    """The years a report can be called by: published, inspected (start and end)."""
    found = {report.year} if report.year else set()
    for day in (report.published, report.inspection_start, report.inspection_end, report.date):
        if day and day[:4].isdigit():
            found.add(int(day[:4]))
    return found


def _year_match(report: Report, years: Sequence[int]) -> bool:
    return bool(_years_of(report) & set(years))


def _months_of(report: Report) -> set[tuple[int, int]]:
    found = set()
    for day in (report.published, report.inspection_start, report.inspection_end, report.date):
        if day and len(day) >= 7 and day[:4].isdigit() and day[5:7].isdigit():
            found.add((int(day[:4]), int(day[5:7])))
    return found


def _matches(report: Report, cue: DateCue) -> bool:
    """Every date the question names fits the report: '2022 inspection (published in 2023)' is one report."""
    if cue.months and not all(m in _months_of(report) for m in cue.months
                              if m not in {(y, mm) for y, mm in cue.published if mm}):
        return False
    for year, month in cue.published:
        published = report.published or report.date or ""
        if not published.startswith(f"{year}") or (month and published[5:7] != f"{month:02d}"):
            # A report whose publication date was not printed is matched on its other dates.
            if report.published or not _year_match(report, (year,)):
                return False
    return not cue.years or all(_year_match(report, (y,)) for y in cue.years)


def _in_span(report: Report, cue: DateCue) -> bool:
    years = _years_of(report)
    return (cue.since is None or max(years, default=0) >= cue.since) and \
        (cue.until is None or min(years, default=9999) <= cue.until)


def _either_side(inspections: Sequence[Report], cue: DateCue) -> tuple[Report, ...]:
    """The inspections just before and just after the one year asked for, when it falls between two."""
    if cue.months or cue.published or len(cue.years) != 1:
        return ()
    year = cue.years[0]
    before = [r for r in inspections if max(_years_of(r), default=9999) < year]
    after = [r for r in inspections if min(_years_of(r), default=0) > year]
    return (before[-1], after[0]) if before and after else ()


def _nearest(inspections: Sequence[Report], cue: DateCue) -> Report:
    """The report closest in years to the date asked for; of two as close, the later."""
    target = (cue.months or cue.published or [(cue.years[0], None)])[0][0]
    order = {r.id: i for i, r in enumerate(inspections)}
    return min(inspections, key=lambda r: (min((abs(y - target) for y in _years_of(r)), default=99), -order[r.id]))


def _asked(cue: DateCue) -> str:
    if cue.months:
        year, month = cue.months[0]
        return f"{MONTHS[month - 1].title()} {year}"
    if cue.published:
        year, month = cue.published[0]
        return f"{MONTHS[month - 1].title() + ' ' if month else ''}{year}"
    return _say_years(cue.years)


def _asked_years(cue: DateCue) -> tuple[int, ...]:
    """The years of what _asked says was asked for."""
    if cue.months:
        return (cue.months[0][0],)
    if cue.published:
        return (cue.published[0][0],)
    return cue.years


def _say_years(years: Sequence[int]) -> str:
    return " or ".join(str(y) for y in years)


def _when(report: Report) -> str:
    return (report_day(report) or "undated")[:4]


def describe_report(report: Report) -> str:
    """'ILACS inspection (standard), inspected 11 July 2022 to 22 July 2022, published 5 September 2022'."""
    kind = REPORT_TYPES.get(report.report_type, report.report_type)
    parts = [kind + (f" ({report.variant})" if report.variant else "")]
    if report.inspection_start and report.inspection_end:
        parts.append(f"inspected {_day(report.inspection_start)} to {_day(report.inspection_end)}")
    if report.published:
        parts.append(f"published {_day(report.published)}")
    elif report.date:
        parts.append(f"dated {_day(report.date)}")
    return ", ".join(parts)


def _day(iso: str) -> str:
    try:
        d = date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{d.day} {MONTHS[d.month - 1].title()} {d.year}"
