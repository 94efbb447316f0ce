"""Questions about the whole country, read as a filter on the judgements table: "Which authorities were
judged inadequate for care leavers since 2023?", "How many are outstanding overall in their latest
inspection?", "Which London boroughs improved from requires improvement to good?", "Which of Wandsworth's
statistical neighbours ...". No single report answers them; rag.ofsted.table does, the same for every
engine. Rules only: a question that is not plainly about many authorities is left to search.
"""
from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass

from rag.ofsted.facts import facts, regions
from rag.ofsted.table import EVERY_AREA, NO_GRADE, TableFilter
from rag.search.grammar import YEAR
from rag.search.question import Query
from rag.text.words import MONTHS

_MANY = r"(?:local\s+)?(?:authorities|councils|boroughs|LAs|areas|counties|cities|unitar(?:y|ies))"
_MANY_PLACES = r"(?:local\s+)?(?:authorities|councils|boroughs|LAs|counties|cities|unitar(?:y|ies))|local\s+areas"
_ASKS_MANY = re.compile(
    rf"\b(?:which|what|how many|list|name|count)\s+(?:of\s+(?:the\s+)?)?(?:[\w'’-]+\s+){{0,3}}?{_MANY}\b"
    rf"|\b(?:has|have|were|was|are|is|did)\s+any\s+(?:[\w-]+\s+)?(?:{_MANY}|authority|council|borough|LA)\b"
    rf"|\bwhich\s+(?:of\s+)?[\w\s'’,-]{{0,40}}?statistical neighbours\b|\bstatistical neighbours\b"
    rf"|\bwhich\s+(?:authority|council|borough|LA)\b|\bhow many\b[^?]{{0,60}}\b(?:were|was|are|got|received)\b",
    re.I)
_GRADES = (("requires improvement", r"\brequires?\s+improvement(?:\s+to\s+be\s+good)?|\bRI\b"),
           ("inadequate", r"\binadequate\b"),
           ("outstanding", r"\boutstanding\b"),
           ("adequate", r"(?<!in)\badequate\b"),
           ("good", r"(?<!to be )\bgood\b"))
_NO_GRADE = re.compile(r"\b(?:no|without(?:\s+an?)?|not\s+(?:given|graded)|carry no|lack(?:s|ed)?)\s+"
                       r"(?:an?\s+)?(?:overall(?:\s+effectiveness)?\s+)?(?:grade|judge?ment|rating)", re.I)
_CHANGE = re.compile(rf"\bfrom\s+(?:an?\s+)?(?P<before>(?:{'|'.join(p for _, p in _GRADES)})(?:\s+or\s+(?:{'|'.join(p for _, p in _GRADES)}))*)"
                     rf"(?:\s+\w+){{0,4}}?\s+(?:straight\s+|directly\s+)?to\s+(?P<after>(?:{'|'.join(p for _, p in _GRADES)})"
                     rf"(?:\s+or\s+(?:{'|'.join(p for _, p in _GRADES)}))*)", re.I)
_EVERY = re.compile(r"\b(?:at|in)\s+(?:every|each|all)\s+(?:one\s+of\s+)?(?:their|its|the)?\s*inspections?\b"
                    r"|\bevery time\b|\balways\b|\bconsistently\b", re.I)
_AT_LEAST = re.compile(r"\bat least (\d+|two|three|four|five|six) (?:inspections|reports)\b", re.I)
_ALL_AREAS = re.compile(r"\b(?:all|every one of the|each of the)\s+(?:five|four|seven|\d)?\s*(?:judge?ments|areas|grades)\b"
                        r"|\b(?:outstanding|good|inadequate)\s+(?:in|for|across)\s+(?:every|all)\s+(?:area|judge?ment)s?\b",
                        re.I)
_LATEST = re.compile(r"\b(?:latest|most recent|current(?:ly)?|last|now|today)\b", re.I)
_LAST_TWO = re.compile(r"\b(?:last|latest|most recent)\s+two\b", re.I)
_SINCE = re.compile(rf"\b(?:from|after|in or after)\s+(?:\w+\s+){{0,2}}?({YEAR})(?:\s+onwards?)?\b"
                    rf"|\b({YEAR})\s+(?:onwards?|or later)\b|\bsince\b[^.?;]{{0,70}}?\b({YEAR})\b", re.I)
_UNTIL = re.compile(rf"\b(?:before|until|up to|by)\s+({YEAR})\b", re.I)
_IN_YEAR = re.compile(rf"\b(?:in|during|published in|inspected in)\s+(?:({'|'.join(MONTHS)})\s+)?({YEAR})\b", re.I)
_FRAMEWORKS = (("ofsted_ilacs", r"\bILACS\b"), ("ofsted_sif", r"\bSIF\b|\bsingle inspection framework\b"))
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


@dataclass(frozen=True)
class NationalQuestion:
    filter: TableFilter
    counts: bool                 # "how many": the number is the answer
    anchor: str | None = None    # the authority whose statistical neighbours are asked about


def national_question(question: str, query: Query, *, unnamed_many: bool = False) -> NationalQuestion | None:
    """The table filter a question about many authorities asks for, or None when it is not one (it names
    one or two authorities to answer about, or asks for no grade). Asides in brackets are not the filter.
    `unnamed_many`: the question names no authority and the corpus has many, so a grade question is about
    all of them ('What grade did help and protection get in the reports published in May 2016?')."""
    question = re.sub(r"\([^()]*\)", " ", question)
    neighbours = re.search(r"\bstatistical neighbours?\b|\bcomparators?\b", question, re.I)
    if not _ASKS_MANY.search(question) and not neighbours and not unnamed_many:
        return None
    grades = _grades(question)
    if not (query.asks_judgement or grades):
        return None
    region = _region(question)
    anchor = query.authorities[0] if neighbours and query.authorities else None
    if not anchor and not region and len(query.authorities) >= 2:
        return None                                 # named authorities: a comparison, not the country
    if not anchor and not region and query.authorities and not re.search(rf"\b{_MANY_PLACES}\b", question, re.I):
        # 'how many children in Wandsworth were ...', 'what areas did Ofsted want Walsall to improve?': one
        # authority ('areas' beside a named authority are its judgement areas, not places)
        return None
    areas = query.judgement_areas
    area = EVERY_AREA if _ALL_AREAS.search(question) else (areas[0] if areas else "overall_effectiveness")
    authorities: frozenset[str] = frozenset()
    if anchor:
        place = facts(anchor)
        authorities = frozenset(place.statistical_neighbours if place else ())
        if re.search(r"\bcompare|\bagainst\b|\bversus\b|\bvs\b|\bwith (?:its|their)\b", question, re.I):
            authorities |= {anchor}
    change = _change(question)
    every = bool(_EVERY.search(question)) and not change
    at_least = _AT_LEAST.search(question)
    since, until = _window(question)
    if change:
        scope = "latest" if _LAST_TWO.search(question) or (_LATEST.search(question) and not since) else "all"
    elif every:
        scope = "all"
    else:
        scope = "latest" if _LATEST.search(question) or not (since or until) else "all"
    frameworks = frozenset(kind for kind, pattern in _FRAMEWORKS if re.search(pattern, question, re.I))
    no_grade = bool(_NO_GRADE.search(question))
    wanted = TableFilter(
        area=area,
        grades=frozenset({NO_GRADE}) if no_grade else frozenset() if change else grades,
        region=region,
        authorities=authorities,
        since=since, until=until, scope=scope, change=change, every=every,
        min_reports=_number(at_least.group(1)) if at_least else 1,
        frameworks=frameworks)
    return NationalQuestion(wanted, bool(re.search(r"\bhow many\b|\bnumber of\b|\bcount\b", question, re.I)), anchor)


def _grades(text: str) -> frozenset[str]:
    found = set()
    for grade, pattern in _GRADES:
        if re.search(pattern, text, re.I):
            found.add(grade)
            text = re.sub(pattern, " ", text, flags=re.I)   # 'requires improvement to be good' is not 'good'
    return frozenset(found)


def _change(question: str) -> tuple[frozenset[str], frozenset[str]] | None:
    m = _CHANGE.search(question)
    if not m:
        return None
    return _grades(m.group("before")), _grades(m.group("after"))


def _region(question: str) -> str | None:
    for region in sorted(regions(), key=len, reverse=True):
        if re.search(rf"\b{re.escape(region)}\b", question, re.I):
            return region
    return None


def _window(question: str) -> tuple[str | None, str | None]:
    since = until = None
    m = _SINCE.search(question)
    if m:
        since = f"{m.group(1) or m.group(2) or m.group(3)}-01-01"
    m = _UNTIL.search(question)
    if m:
        until = f"{int(m.group(1)) - 1}-12-31"
    if not since and not until:
        m = _IN_YEAR.search(question)
        if m and m.group(1):
            month = MONTHS.index(m.group(1).lower()) + 1
            year, last_day = m.group(2), monthrange(int(m.group(2)), month)[1]
            since, until = f"{year}-{month:02d}-01", f"{year}-{month:02d}-{last_day}"
        elif m:
            since, until = f"{m.group(2)}-01-01", f"{m.group(2)}-12-31"
    return since, until


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text.lower()]
