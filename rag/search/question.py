"""Understanding a question before searching: which authorities, which report (year, kind), whether it
compares authorities or asks for a graded judgement, and its wording expanded with the domain's
abbreviations. Rules and data only, no model.

Authorities are found by rag.ofsted.authorities, abbreviations by rag.ofsted.glossary, and the words that
mark years, groups and comparisons are rag.search.grammar's (shared with follow-up rewriting).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.errors import QueryError
from rag.ofsted.authorities import Mention, canonical_authority, find_mentions, royal_authorities
from rag.ofsted.glossary import expand
from rag.ofsted.grades import GRADE_WORD, GRADE_WORDS, grades_area
from rag.records import Judgement
from rag.search.grammar import (COMPARE, GROUP, MONTH, NATIONAL, YEAR, YearMention, asks_yes_no, cut_topic,
                                 last_sentence, mention_span, year_mentions)
from rag.text.sanitize import without_escapes

# A question, not a document: long enough for a pasted sentence or two with context, short enough that
# it fits a small model's prompt beside the passages.
MAX_QUESTION_CHARS = 2000
REPORT_KINDS = ("inspection", "overview", "self-assessment", "annual-report")


@dataclass(frozen=True)
class Query:
    text: str                                   # the question as asked
    search_text: str                            # the question plus abbreviation/synonym expansions
    authorities: tuple[str, ...] = ()           # canonical names in the corpus, in order of mention
    unknown_authorities: tuple[str, ...] = ()   # English authorities named that the corpus lacks
    year: int | None = None                     # the report year the question is about, if one
    years: tuple[int, ...] = ()                 # every year mentioned, in order
    authority_years: tuple[tuple[str, int], ...] = ()   # "Hillingdon (2013), Wandsworth (2015)"
    report_kind: str | None = None              # one of REPORT_KINDS
    is_comparison: bool = False
    topic: str = ""                             # the question without authorities, years, comparison words
    asks_judgement: bool = False
    judgement_area: str | None = None           # a key of rag.grades.AREAS, None if unsure
    judgement_areas: tuple[str, ...] = ()       # every area the question names
    judgement_scope: str | None = None          # 2011 framework: "safeguarding" | "looked_after"
    areas_named: tuple[str, ...] = ()           # judgement areas the question is about, graded or not
    expansions: tuple[str, ...] = ()            # what search_text added

    def year_for(self, authority: str) -> int | None:
        """The report year meant for one authority: its own paired year, else the question's year."""
        return dict(self.authority_years).get(authority, self.year)

    def asks_for(self, judgement: Judgement) -> bool:
        """Whether a judgements-table row is one this question asks about (its area, and for the 2009-12
        framework its service)."""
        areas = self.judgement_areas or ((self.judgement_area,) if self.judgement_area else ())
        return (not areas or any(grades_area(judgement.area, judgement.label, a) for a in areas)) and (
            not self.judgement_scope or not judgement.service or judgement.service == self.judgement_scope)


# ---------------------------------------------------------------------------------------------- years

def _paired_years(text: str, mentions: Sequence[Mention], years: Sequence[YearMention]) -> list[tuple[str, int]]:
    """Years written right next to an authority: 'Hillingdon (2013)', "Wandsworth's 2015 inspection",
    'Wandsworth in 2015', 'the 2013 Hillingdon report'."""
    pairs: list[tuple[str, int]] = []
    for mention in mentions:
        after = re.match(rf"(?:\s*['’]s)?\s*(?:\(\s*|in\s+|from\s+)?({YEAR})\b(?!\s*[-–/])", text[mention.end:])
        before = re.search(rf"\b({YEAR})\s+(?:Ofsted\s+)?$", text[:mention.start])
        # 'Leicester (March 2015)': a month and year in brackets after the name date its report.
        bracketed = re.match(rf"(?:\s*['’]s)?\s*\(\s*(?:{MONTH}\s+)({YEAR})\s*\)", text[mention.end:], re.I)
        if bracketed and mention.authority not in dict(pairs):
            pairs.append((mention.authority, int(bracketed.group(1))))
        for m, at in ((after, mention.end), (before, 0)):
            if m:
                start = at + m.start(1)
                if any(y.start == start and y.role != "data" for y in years) \
                        and mention.authority not in dict(pairs):
                    pairs.append((mention.authority, int(m.group(1))))
    return pairs


# ------------------------------------------------------------------------------- kind and judgement

_KINDS = (
    ("self-assessment", r"\bself[- ]?(?:assessment|evaluation)s?\b|\bSEF\b"),
    ("annual-report", r"\bannual reports?\b"),
    ("overview", r"\boverview\b|\bcouncil['’]?s?\s+(?:own\s+)?(?:report|paper|update|document)\b"
                 r"|\bscrutiny (?:committee|report|paper)\b|\bcommittee (?:report|paper)\b|\bstate of the nation\b"),
    ("inspection", r"\bOfsted\b|\binspect(?:ion|ions|ed|ors?)\b|\bHMI\b"),
)
_ASKS_JUDGEMENT = re.compile(
    r"\b(?:grade[sd]?|grading|rated|ratings?|judged|judge?ments?|verdict|inadequate|requir(?:es|ed|e) improvement"
    r"|outstanding|overall effectiveness|how (?:good|effective) (?:was|were|is|are)"
    r"|Ofsted\s+(?:conclude|concluded|make of|think of|rate|judge))\b", re.I)
# 'Did X get good for adoption?', 'Did North Somerset get to good in 2023?', 'keep its good rating': 'good' is a
# grade only where a yes/no question says a grade was reached, kept or lost, and no noun follows it ('get good
# support' is about support).
_GRADE_ENDS = (r"(?=\s*(?:[?.,;!]|$)|\s+(?:for|in|at|from|overall|again|and|or|by|under|when|across|after|before"
               r"|since|back|then|rating|grade|judge?ment)\b)")
_GRADE_REACHED = re.compile(
    rf"\b(?:get|got|gets|getting|receive[sd]?|achieve[sd]?|reach(?:ed)?|keep|kept|retain(?:ed)?|hold on to|"
    rf"held on to|lose|lost|stay(?:ed)?|remain(?:ed)?|still|now|back|rated|judged|graded|be|been|as)\s+"
    rf"(?:to\s+|an?\s+|its\s+|their\s+|the\s+)?(?:{GRADE_WORDS}){_GRADE_ENDS}", re.I)
_GRADE_AFTER_AREA = re.compile(rf"\b(?:{GRADE_WORDS}){_GRADE_ENDS}", re.I)
_LAC = r"\blooked[- ]after\b|\bchildren in care\b|\bLAC\b|\bCLA\b|\bpermanen(?:ce|cy)\b"
# (pattern, area) most specific first; tier 2 are broad words used only when nothing specific is named.
_AREAS_SPECIFIC = (
    (r"\badoption\b", "adoption_performance"),
    (r"\boverall (?:effectiveness|judge?ments?|grades?|ratings?|verdicts?)\b", "overall_effectiveness"),
    (r"\bcare leavers?\b|\bleaving care\b", "care_leavers"),
    (r"\bLSCBs?\b|\bsafeguarding (?:children )?boards?\b", "lscb"),
    (r"\bhelp and protection\b|\bneed(?:s|ing)? (?:of )?help\b|\bchild protection\b|\bearly help\b",
     "help_and_protection"),
    (r"\bgovernance\b", "leadership_management_governance"),
    # 'how were leaders rated?': the ILACS 'impact of leaders' (the SIF's leadership grade is its namesake).
    (r"\bimpact of (?:the |its |their )?leaders\b|\bleaders\b(?=[^?.]{0,40}\b(?:rated|judged|graded|grade))"
     r"|\b(?:rated|judged|graded|grades?|ratings?)\b[^?.]{0,30}\bleaders\b", "impact_of_leaders"),
    (r"\bleadership\b", "leadership_management"),
    (r"\bcapacity (?:for|to) improve(?:ment)?\b", "capacity_for_improvement"),
    (r"\bfeel safe\b", "safe"),
    (r"\bstay(?:ing)? safe\b", "staying_safe"),
    (r"\bcontribution of health\b|\bhealth agencies\b", "health_contribution"),
    (r"\bbeing healthy\b|\bhealth outcomes\b", "being_healthy"),
    (r"\benjoy(?:ing)? and achiev\w*", "enjoying_achieving"),
    (r"\bpositive contribution\b", "positive_contribution"),
    (r"\beconomic well[- ]?being\b", "economic_wellbeing"),
    (r"\bquality of provision\b", "quality_of_provision"),
    (r"\bambition\b", "ambition_prioritisation"),
    (r"\bperformance management\b|\bquality assurance\b", "performance_management"),
    (r"\bpartnership working\b", "partnership_working"),
    (r"\bequality and diversity\b", "equality_diversity"),
)
_AREAS_BROAD = ((r"\boverall\b|\bchildren['’]?s services\b", "overall_effectiveness"),
                (_LAC, "looked_after_permanence"),
                # 'the multi-agency safeguarding hub' is a service, not the graded area
                (r"\bsafeguarding\b(?!\s+(?:children\s+)?(?:hubs?|teams?|units?|partnerships?|partners|leads?|"
                 r"officers?|nurses?)\b)|\bkeep(?:ing|s)? (?:\w+ ){0,4}safe\b", "help_and_protection"))
_SLAC_ONLY = {"capacity_for_improvement", "safe", "staying_safe", "health_contribution", "being_healthy",
              "enjoying_achieving", "positive_contribution", "economic_wellbeing", "quality_of_provision",
              "ambition_prioritisation", "performance_management", "partnership_working", "equality_diversity"}


def _report_kind(question: str, asks_judgement: bool) -> str | None:
    kinds = {kind for kind, pattern in _KINDS if re.search(pattern, question, re.I)}
    if len(kinds) == 1:
        return kinds.pop()
    return "inspection" if not kinds and asks_judgement else None   # mixed kinds: no single report


def areas_named(text: str, broad: bool = True) -> list[str]:
    """The judgement areas a text names, in order: the specific ones ('adoption', 'care leavers'), or, when
    it names none and `broad` allows, the broad ones ('children's services', 'looked after', 'safeguarding')."""
    def found(patterns: Sequence[tuple[str, str]]) -> list[str]:
        hits = sorted((m.start(), area) for pattern, area in patterns
                      for m in [re.search(pattern, text, re.I)] if m)
        return list(dict.fromkeys(area for _, area in hits))

    return found(_AREAS_SPECIFIC) or (found(_AREAS_BROAD) if broad else [])


def _judgement(question: str, year: int | None) -> tuple[tuple[str, ...], str | None]:
    """(areas named, 2011-framework scope). Areas follow the framework the year implies: before 2013
    Ofsted used the 2009-2012 safeguarding and looked after children framework."""
    areas = areas_named(question)
    slac = (year is not None and year <= 2012) or bool(_SLAC_ONLY & set(areas)) \
        or bool(re.search(r"\badequate\b|\bgrade [1-4]\b", question, re.I))
    scope = None
    if slac:
        scope = "looked_after" if re.search(_LAC + r"|\bcare leavers?\b", question, re.I) else \
            "safeguarding" if re.search(r"\bsafeguarding\b|\bchild protection\b", question, re.I) else None
        slac_map = {"leadership_management_governance": "leadership_management",
                    "help_and_protection": "overall_effectiveness", "looked_after_permanence": "overall_effectiveness"}
        areas = list(dict.fromkeys(slac_map.get(a, a) for a in areas))
    else:
        areas = ["leadership_management_governance" if a == "leadership_management" else a for a in areas]
        areas = list(dict.fromkeys(areas))
    return tuple(areas), scope



# ------------------------------------------------------------------------------------- parse_query

_TAG = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|</?[A-Za-z][^<>]{0,300}>", re.I | re.S)


def clean_question(question: str | None) -> str:
    """The question as text to search: markup tags and terminal/control characters removed (pasted from a
    web page or a terminal, they only add noise), whitespace collapsed. Raises QueryError with what to do
    when nothing searchable is left or the text is too long to be a question."""
    text = re.sub(r"\s+", " ", _TAG.sub(" ", without_escapes(question or "", " "))).strip()
    if not text:
        raise QueryError("Ask a question: the text is empty.")
    if len(text) > MAX_QUESTION_CHARS:
        raise QueryError(f"The question is {len(text):,} characters long; questions are limited to "
                         f"{MAX_QUESTION_CHARS:,}. Ask about one thing, or quote a sentence rather than a page.")
    if not any(c.isalnum() for c in text):
        raise QueryError("The question has no words to search for; ask in words, e.g. "
                         "'What did Ofsted say about adoption in Wandsworth?'.")
    return text


def parse_query(question: str, corpus_authorities: Sequence[str]) -> Query:
    """What a question asks: its authorities (those the corpus has, and those it lacks), the report year
    and kind, whether it compares, which graded judgements it asks about, its topic and its expansions."""
    corpus = list(dict.fromkeys(canonical_authority(c) or c for c in corpus_authorities if c))
    mentions = find_mentions(question, in_question=True, extra=corpus)
    named = list(dict.fromkeys(m.authority for m in mentions))
    groups = list(GROUP.finditer(question))
    compare_words = [m for m in COMPARE.finditer(question) if not NATIONAL.match(question[m.end():])]
    authorities, unknown = _authorities(question, mentions, named, corpus, groups)
    years = year_mentions(question)
    pairs = _paired_years(question, mentions, years)
    year = _report_year(years, pairs)
    areas_named, scope_named = _judgement(question, year)
    asks = bool(_ASKS_JUDGEMENT.search(question)) or asks_yes_no(question) and (
        bool(_GRADE_REACHED.search(question)) or bool(_GRADE_AFTER_AREA.search(question)) and bool(areas_named))
    areas, scope = (areas_named, scope_named) if asks else ((), None)
    if asks and not areas and asks_yes_no(question) and GRADE_WORD.search(last_sentence(question)):
        areas = ("overall_effectiveness",)      # 'Was Knowsley rated inadequate at its last inspection?
    added = expand(question)
    return Query(
        text=question,
        search_text=" ".join((question, *added)),
        authorities=tuple(dict.fromkeys(authorities)),
        unknown_authorities=tuple(unknown),
        year=year,
        years=tuple(dict.fromkeys(y.year for y in years)),
        authority_years=tuple(pairs),
        report_kind=_report_kind(question, asks),
        is_comparison=len(named) >= 2 or bool(groups) or bool(compare_words),
        topic=_topic(question, mentions, years, [*groups, *compare_words]),
        asks_judgement=asks,
        judgement_area=areas[0] if len(areas) == 1 else None,
        judgement_areas=areas,
        judgement_scope=scope,
        areas_named=areas_named,
        expansions=added,
    )


def _authorities(question: str, mentions: Sequence[Mention], named: list[str], corpus: list[str],
                 groups: Sequence[re.Match[str]]) -> tuple[list[str], list[str]]:
    """(authorities in the corpus the question is about, authorities it names that the corpus lacks)."""
    authorities = [a for a in named if a in corpus]
    unknown = [a for a in named if a not in corpus]
    # "the royal borough", unqualified, means the corpus's royal borough when it has only one.
    royal = [a for a in corpus if a in royal_authorities()]
    if len(royal) == 1 and royal[0] not in authorities and any(
            not any(m.start <= r.start() < m.end for m in mentions)
            for r in re.finditer(r"\bthe royal borough\b(?!\s+of\b)", question, re.I)):
        authorities.append(royal[0])
    if groups and (not authorities or any("other" in g.group(0).lower() for g in groups)):
        authorities += [a for a in corpus if a not in authorities]     # 'each of the boroughs'
    if not authorities and not unknown and len(corpus) == 1:
        authorities = corpus[:]     # a one-authority corpus: every question is about it
    return authorities, unknown


def _report_year(years: Sequence[YearMention], pairs: Sequence[tuple[str, int]]) -> int | None:
    """The one report year the question names ('the 2015 inspection', 'Wandsworth (2015)'), or a lone
    year that is not about data ('in 2011'); None when it names several or none."""
    report_years = {y.year for y in years if y.role == "report"} | {y for _, y in pairs}
    if report_years:
        return report_years.pop() if len(report_years) == 1 else None
    candidates = {y.year for y in years if y.role == "candidate"}
    return candidates.pop() if len(candidates) == 1 and all(y.role != "data" for y in years) else None


def _topic(question: str, mentions: Sequence[Mention], years: Sequence[YearMention],
           marks: Sequence[re.Match[str]]) -> str:
    """The question without its authorities, report years and comparison or group words."""
    marked = [(m.start(), m.end()) for m in marks]
    dropped = []
    for m in mentions:
        (dropped if re.match(r"['’]s\b", question[m.end:]) else marked).append(mention_span(question, m))
    for y in years:
        # 'inspected Medway in July 2019' names the report, though a month and year are usually data.
        dated = re.search(rf"\b(?:inspect|publish|report|visit)\w*\b[\w\s'’]{{0,40}}?\bin\s+{MONTH}\s+$",
                          question[:y.start], re.I)
        if y.role != "data" or dated:
            # 'in July 2019', '(autumn 2016)': the month or season goes with the year that chose the report.
            wrap = re.search(rf"(?:\(\s*|\bin\s+)?(?:(?:early|late|mid|autumn|spring|summer|winter)[\s-]+)?"
                             rf"(?:{MONTH}\s+)?$", question[:y.start], re.I)
            wrap = wrap if wrap and wrap.group(0) else None
            close = re.match(r"\s*\)", question[y.end:]) if wrap and "(" in wrap.group(0) else None
            dropped.append((wrap.start() if wrap else y.start, y.end + (close.end() if close else 0)))
    dropped += [m.span() for m in _REPORT_POINTER.finditer(question)]
    return cut_topic(question, marked, dropped)


# Words that point at a report ('by the next inspection', 'in its latest report', a follow-up's '(the inspection
# after 2023)') chose the report; searched for, they rank paragraphs about inspections above the topic's.
# 'Since the last inspection' stays: reports write it where they say what has changed.
_REPORT_POINTER = re.compile(rf"\(\s*the (?:inspection|report|visit) (?:after|before) {YEAR}\s*\)"
                             r"|\bat the time of (?:the|its|their) (?:\w+\s+)?(?:ofsted\s+)?"
                             r"(?:inspection|report|visit)\b"
                             r"|\b(?:by|at|in|from|of|during|according to)\s+(?:the|its|their)\s+"
                             r"(?:next|previous|prior|latest|most recent|earliest|first|following|subsequent)\s+"
                             r"(?:\w+\s+)?(?:inspection|report|visit)s?\b", re.I)
