"""The vocabulary of Ofsted graded judgements: judgement areas, grade words, and the sentence forms in
which reports state a grade. Shared by chunking (a grade statement is a citable heading) and by
judgement extraction."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Canonical area key -> (label, pattern). Areas of ILACS (2018-), the single inspection framework
# (2013-2018), the 2012-13 looked after children inspections and the 2009-2012 safeguarding and looked after
# children (SLAC) inspections.
AREAS: dict[str, tuple[str, str]] = {
    "overall_effectiveness": ("Overall effectiveness", r"(?:the )?overall (?:judgement|effectiveness)(?: (?:of|for) [\w\s',]{3,80}?)?"),
    "impact_of_leaders": ("The impact of leaders on social work practice with children and families",
                          r"(?:the )?impact of leaders on social work practice(?: with children and families)?"),
    "children_in_care": ("The experiences and progress of children in care",
                         r"(?:the )?experiences? and progress of children in care(?: and care leavers)?"),
    "help_and_protection": ("Children who need help and protection",
                            r"(?:the experiences and progress of )?children who need help and protection"),
    "looked_after_permanence": ("Children looked after and achieving permanence",
                                r"(?:the experiences and progress of )?children looked after and achieving permanence"),
    "adoption_performance": ("Adoption performance", r"adoption performance"),
    "care_leavers": ("Experiences and progress of care leavers",
                     r"(?:the )?experiences? and progress of care leavers"),
    "leadership_management_governance": ("Leadership, management and governance",
                                         r"leadership,? management,? and governance"),
    "lscb": ("Local Safeguarding Children Board",
             r"(?:the effectiveness of )?the local safeguarding children board(?: \(LSCB\))?(?: in [A-Z][\w ]{2,40}?)?"
             r"|the LSCB"),
    # SLAC (2011) areas: their label depends on the service heading they sit under.
    "capacity_for_improvement": ("Capacity for improvement", r"(?:the )?capacity (?:for|to) improve(?:ment)?(?: services (?:for|of) [\w\s']{3,80}?)?"),
    "outcomes": ("Outcomes for looked after children and young people",
                 r"outcomes for looked after children(?: and young people)?"),
    "safe": ("Children and young people are safe and feel safe", r"children and young people are safe and feel safe"),
    "quality_of_provision": ("Quality of provision", r"(?:the )?quality of provision"),
    "health_contribution": ("The contribution of health agencies to keeping children and young people safe",
                            r"(?:the )?contribution of health agencies[\w\s]{0,60}"),
    "ambition_prioritisation": ("Ambition and prioritisation", r"ambition and prioritisation"),
    "leadership_management": ("Leadership and management", r"(?:the )?leadership and management(?: of [\w\s']{3,60}?)?"),
    "performance_management": ("Performance management and quality assurance",
                               r"performance management and quality assurance(?: systems)?"),
    "partnership_working": ("Partnership working", r"partnership working"),
    "equality_diversity": ("Equality and diversity", r"equality and diversity"),
    "being_healthy": ("Being healthy", r"being healthy|health outcomes of looked after children"),
    "staying_safe": ("Staying safe", r"staying safe|safeguarding arrangements for looked after children"),
    "enjoying_achieving": ("Enjoying and achieving", r"enjoying and achieving|outcomes for enjoying and achieving"),
    "positive_contribution": ("Making a positive contribution",
                              r"making a positive contribution(?:, including user engagement)?"
                              r"|arrangements for making a positive contribution"),
    "economic_wellbeing": ("Economic well-being", r"economic well-being|outcomes for economic well-being"),
}
SIF_AREAS = ("overall_effectiveness", "help_and_protection", "looked_after_permanence", "adoption_performance",
             "care_leavers", "leadership_management_governance", "lscb")
ILACS_AREAS = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "children_in_care", "care_leavers")
LAC_AREAS = ("overall_effectiveness", "capacity_for_improvement", "outcomes", "quality_of_provision",
             "leadership_management")
# One question across frameworks: the ILACS (2018-) names areas the SIF (2013-18) named otherwise.
_EQUIVALENT_AREAS = (frozenset({"looked_after_permanence", "children_in_care"}),
                     frozenset({"leadership_management_governance", "impact_of_leaders"}))


def same_area(area: str) -> frozenset[str]:
    """The area and its namesakes in the other frameworks ('children in care' = 'looked after children')."""
    return next((family for family in _EQUIVALENT_AREAS if area in family), frozenset({area}))


def grades_area(area: str, label: str, asked: str) -> bool:
    """Whether a judgement (its area key and label) grades the area asked about: the same area, its namesake
    in another framework, or a combined area that names it (the 2018-23 ILACS graded 'children in care and
    care leavers' together, and that grade answers a question about care leavers)."""
    return area in same_area(asked) or (asked == "care_leavers" and "care leavers" in label.lower())


# The one scale a reader compares on, best first (the 2009-13 frameworks' 'adequate' sits where
# 'requires improvement' does).
GRADE_ORDER = ("outstanding", "good", "requires improvement", "adequate", "inadequate")

GRADE_WORDS = r"outstanding|good|requires? improvement(?: to be good)?|adequate|inadequate"
GRADE_WORD = re.compile(rf"\b({GRADE_WORDS})\b", re.I)
_NUMBERED_GRADE = re.compile(r"Grade ([1-4]) \((outstanding|good|adequate|inadequate)\)", re.I)
# A grade written inside a heading by a table-to-text conversion: capitalised, as in the table cell.
GRADE_IN_HEADING = re.compile(r"\b(?:Requires [Ii]mprovement|Inadequate|Outstanding|Good|Adequate)\b")
_AREA_ANY = re.compile("|".join(f"(?:{p})" for _, p in AREAS.values()), re.I)
_VERB = r"(?:\s+(?:is|are|was|were|requires?|require|remains?))?(?:\s+(?:judged|graded|found))?(?:\s+to\s+be)?"
_THAT = r"(?:\s+that(?:\s+(?:it|they|children.s services))?(?:\s+(?:is|are|requires?|require))?)?"


@dataclass(frozen=True)
class GradeStatement:
    area: str
    grade: str          # normalised: outstanding | good | requires improvement | adequate | inadequate
    grade_number: int | None
    start: int
    end: int
    words: str = ""     # the grade as the report writes it: "Requires improvement to be good", "Grade 4 (inadequate)"
    earlier: bool = False   # said of an earlier inspection ("at the last inspection in 2021, ... was inadequate")


def normalise_grade(word: str) -> str:
    word = " ".join(word.lower().split())
    return "requires improvement" if word.startswith("require") else word


def mentions_area(text: str) -> bool:
    return bool(_AREA_ANY.search(text))


def _statement_pattern(area_pattern: str) -> re.Pattern[str]:
    # "<area> [is|are|requires] [judged to be] [that it is] <grade>", or "graded judgement for <area> is ... <grade>",
    # or a table/heading cell "<area> | <grade>".
    return re.compile(
        rf"(?:the graded judgement (?:for|about|on) )?(?P<area>{area_pattern})"
        rf"(?:(?:{_VERB}{_THAT})?\s*\|\s*|\s*:\s*|{_VERB}{_THAT}\s+|\s+)"
        rf"(?P<grade>{GRADE_WORDS}|Grade [1-4] \((?:{GRADE_WORDS})\))\b",
        re.I)


_PATTERNS = {key: _statement_pattern(pattern) for key, (_, pattern) in AREAS.items()}
_OVERALL = re.compile(rf"the overall judgement is(?: that [\w\s']{{3,40}}?)?\s+(?P<grade>{GRADE_WORDS})\b"
                      rf"|^\W*children['’]s services (?:in [A-Z][\w ,.'’&-]{{2,60}}? (?:(?:are|is)\s+)?|(?:are|is)\s+|(?=requires? improvement))"
                      rf"(?P<headline>{GRADE_WORDS})\b", re.I)
# A sentence about an earlier inspection, whose grades are history, not this report's judgements.
EARLIER_INSPECTION = re.compile(
    r"\b(?:last|previous|earlier|prior|former|preceding)\s+(?:full\s+|standard\s+|short\s+|ofsted\s+|single\s+)?"
    r"(?:inspection|re-?inspection|judgement)s?\b|\b(?:since|at|in|during)\s+(?:the\s+)?(?:inspection|re-?inspection)"
    r"\s+(?:in|of)\s+(?:[A-Z][a-z]+\s+)?(?:19|20)\d\d\b|\bwhen\s+(?:it|they|the\s+\w+)\s+(?:was|were)\s+"
    r"(?:judged|graded|found)\b|\bpreviously\s+(?:judged|graded|found|rated)\b|\bin\s+(?:19|20)\d\d,?\s+(?:when|the)\b"
    r"|\b(?:last|previously|earlier)\s+inspected\b"
    r"|\b(?:was|were)\s+(?:judged|graded|found|rated)\s+(?:to\s+be\s+)?\w+(?:\s+\w+){0,3}\s+in\s+(?:19|20)\d\d\b",
    re.I)
_DEFINITION = re.compile(r"\b(?:if|an?\s+(?:LSCB|local authority)\s+(?:that\s+)?(?:is\s+)?)\b", re.I)


def find_statements(text: str) -> list[GradeStatement]:
    """Graded judgements stated in a sentence, table row or heading. Definitions of the grade scale
    ('An LSCB requires improvement if ...') are not statements."""
    found: list[GradeStatement] = []
    for sentence_match in re.finditer(r"[^.\n]+(?:\.|$)", text, re.M):
        sentence = sentence_match.group(0)
        if _DEFINITION.search(sentence) and not re.search(r"graded judgement|overall judgement", sentence, re.I):
            continue
        offset = sentence_match.start()
        overall = _OVERALL.search(sentence)
        if overall:
            found.append(_statement("overall_effectiveness", overall, offset, sentence))
        for key, pattern in _PATTERNS.items():
            for match in pattern.finditer(sentence):
                if key == "overall_effectiveness" and overall:
                    continue
                found.append(_statement(key, match, offset, sentence))
    return _dedupe(found)


def _statement(area: str, match: re.Match[str], offset: int, sentence: str = "") -> GradeStatement:
    grade = match.group("grade") if "grade" in match.re.groupindex and match.group("grade") else match.group("headline")
    earlier = bool(EARLIER_INSPECTION.search(sentence))
    numbered = _NUMBERED_GRADE.match(grade)
    if numbered:
        return GradeStatement(area, normalise_grade(numbered.group(2)), int(numbered.group(1)),
                              offset + match.start(), offset + match.end(), " ".join(grade.split()), earlier)
    return GradeStatement(area, normalise_grade(grade), None, offset + match.start(), offset + match.end(),
                          " ".join(grade.split()), earlier)


def _dedupe(statements: list[GradeStatement]) -> list[GradeStatement]:
    """Where area patterns overlap (e.g. 'leadership and management' inside a longer area), keep the longest."""
    statements.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[GradeStatement] = []
    for s in statements:
        if any(o.start <= s.start and s.end <= o.end and o.area != s.area for o in out):
            continue
        if any(o.area == s.area and o.start == s.start for o in out):
            continue
        out.append(s)
    return out


def is_grade_statement(text: str) -> bool:
    return bool(find_statements(text))


def grade_in(text: str) -> str | None:
    """The grade a short text states, if any: 'Grade 2 (good)' -> 'good', 'Requires Improvement' -> that."""
    numbered = _NUMBERED_GRADE.search(text)
    if numbered:
        return normalise_grade(numbered.group(2))
    match = GRADE_WORD.search(text)
    return normalise_grade(match.group(1)) if match else None
