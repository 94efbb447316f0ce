"""Understanding a question before searching: which authorities, which report (year, kind), whether it
compares authorities or asks for a graded judgement, and its wording expanded with the domain's
abbreviations. Rules and data only, no model.

Authorities are found by rag.authorities (data/authorities.toml), abbreviations come from
data/glossary.toml. The rewriting of a follow-up into a standalone question is rag.followup's.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.authorities import Mention, canonical_authority, find_mentions, royal_authorities
from rag.sanitize import without_escapes

# Re-exported for older imports (`from rag.query import find_authorities_in_text`); standalone_question,
# now in rag.followup, is re-exported lazily by __getattr__ at the end.
from rag.authorities import authority_kind, find_authorities_in_text, known_authorities  # noqa: F401

_DATA = Path(__file__).resolve().parent / "data"
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
    expansions: tuple[str, ...] = ()            # what search_text added

    def year_for(self, authority: str) -> int | None:
        """The report year meant for one authority: its own paired year, else the question's year."""
        return dict(self.authority_years).get(authority, self.year)


# ---------------------------------------------------------------------------------------------- years

_YEAR = r"(?:19[5-9]\d|20\d\d)"
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_KIND_WORD = (r"(?:inspections?|reports?|overview|review|judge?ments?|self[- ]?(?:assessment|evaluation)"
              r"|inspectors|findings|visit)")
_DATA_BEFORE = re.compile(rf"(?:\b{_MONTH}|\b(?:since|from|until|till|before|after|by|between|to|through|"
                          rf"during|academic year|financial year|year)|[-–/]"
                          rf"|\bbetween\b[^?.;]{{0,40}}\band)\s*$", re.I)
_REPORT_AFTER = re.compile(rf"^\s+(?:(?!(?:and|or|to|in|of|the|at|by|for)\b)[A-Za-z'’]+\s+){{0,2}}"
                           rf"{_KIND_WORD}\b", re.I)
_REPORT_BEFORE = re.compile(r"\b(?:inspected|inspection|graded|judged|rated|Ofsted|published|report(?:ed)?)"
                            r"\b(?:\s+\w+){0,2}\s+in\s+$", re.I)


@dataclass(frozen=True)
class _YearMention:
    year: int
    start: int
    end: int
    role: str           # report | candidate | data


def _year_mentions(text: str) -> list[_YearMention]:
    out: list[_YearMention] = []
    for m in re.finditer(rf"(?<![\d£$.,]){_YEAR}(?!\d|%|,\d)", text):
        year, before, after = int(m.group(0)), text[:m.start()], text[m.end():]
        if re.match(r"\s*[-–/]\s*\d{2}\b", after) or _DATA_BEFORE.search(before) and \
                not _REPORT_AFTER.match(after):
            role = "data"               # "2014-15", "March 2015", "since 2012": about data, not a report
        elif re.search(r"\(\s*$", before) and re.match(r"\s*\)", after) or _REPORT_AFTER.match(after) \
                or _REPORT_BEFORE.search(before):
            role = "report"             # "(2015)", "2013 inspection", "inspected in 2015"
        else:
            role = "candidate"          # "in 2011": the report's year unless the question says otherwise
        out.append(_YearMention(year, m.start(), m.end(), role))
        short = re.match(r"\s*[-–/]\s*(\d{2})\b", after)
        if short:
            out.append(_YearMention(year // 100 * 100 + int(short.group(1)), m.end(), m.end(), "data"))
    return out


def _paired_years(text: str, mentions: Sequence[Mention], years: Sequence[_YearMention]) -> list[tuple[str, int]]:
    """Years written right next to an authority: 'Hillingdon (2013)', "Wandsworth's 2015 inspection",
    'Wandsworth in 2015', 'the 2013 Hillingdon report'."""
    pairs: list[tuple[str, int]] = []
    for mention in mentions:
        after = re.match(rf"(?:\s*['’]s)?\s*(?:\(\s*|in\s+|from\s+)?({_YEAR})\b(?!\s*[-–/])", text[mention.end:])
        before = re.search(rf"\b({_YEAR})\s+(?:Ofsted\s+)?$", text[:mention.start])
        for m, at in ((after, mention.end), (before, 0)):
            if m:
                start = at + m.start(1)
                if any(y.start == start and y.role != "data" for y in years) \
                        and mention.authority not in dict(pairs):
                    pairs.append((mention.authority, int(m.group(1))))
    return pairs


# ------------------------------------------------------------------------- kind, comparison, judgement

_KINDS = (
    ("self-assessment", r"\bself[- ]?(?:assessment|evaluation)s?\b|\bSEF\b"),
    ("annual-report", r"\bannual reports?\b"),
    ("overview", r"\boverview\b|\bcouncil['’]?s?\s+(?:own\s+)?(?:report|paper|update|document)\b"
                 r"|\bscrutiny (?:committee|report|paper)\b|\bcommittee (?:report|paper)\b|\bstate of the nation\b"),
    ("inspection", r"\bOfsted\b|\binspect(?:ion|ions|ed|ors?)\b|\bHMI\b"),
)
_COMPARE = re.compile(r"\b(?:compar(?:e|es|ed|ing|ison|isons)|contrast(?:s|ed|ing)?|differ(?:s|ed|ence|ences)?"
                      r"|versus|vs\b\.?|similarit(?:y|ies)|in common|side by side)(?!\w)", re.I)
_NATIONAL = re.compile(r"^\W*(?:\w+\W+){0,4}?(?:nationally|national|england|neighbours?|comparators?|average"
                       r"|regional(?:ly)?)\b", re.I)
_GROUP_NOUN = r"(?:local\s+)?(?:authorities|boroughs|councils|LAs|reports|inspections)"
_GROUP = re.compile(rf"\b(?:(?:in\s+)?(?:each|all|both|every|across|between)\s+(?:of\s+)?(?:the\s+|these\s+|those\s+)?"
                    rf"(?:\w+\s+)?{_GROUP_NOUN}|which\s+(?:of\s+the\s+(?:\w+\s+)?{_GROUP_NOUN}|(?:local\s+)?"
                    rf"(?:authority|borough|council|LA)\b)|(?:the\s+)?other\s+(?:\w+\s+)?{_GROUP_NOUN})"
                    rf"(?:\s+(?:covered|included|in)\s+(?:by\s+|in\s+)?(?:the\s+)?(?:corpus|collection|reports))?",
                    re.I)
_ASKS_JUDGEMENT = re.compile(
    r"\b(?:grade[sd]?|grading|rated|ratings?|judged|judge?ments?|verdict|inadequate|requires? improvement"
    r"|outstanding|overall effectiveness|how (?:good|effective) (?:was|were|is|are)"
    r"|Ofsted\s+(?:conclude|concluded|make of|think of|rate|judge))\b", re.I)
_LAC = r"\blooked[- ]after\b|\bchildren in care\b|\bLAC\b|\bCLA\b|\bpermanen(?:ce|cy)\b"
# (pattern, area) most specific first; tier 2 are broad words used only when nothing specific is named.
_AREAS_SPECIFIC = (
    (r"\badoption\b", "adoption_performance"),
    (r"\bcare leavers?\b|\bleaving care\b", "care_leavers"),
    (r"\bLSCBs?\b|\bsafeguarding (?:children )?boards?\b", "lscb"),
    (r"\bhelp and protection\b|\bneed(?:s|ing)? (?:of )?help\b|\bchild protection\b|\bearly help\b",
     "help_and_protection"),
    (r"\bgovernance\b", "leadership_management_governance"),
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
                (r"\bsafeguarding\b|\bkeep(?:ing|s)? (?:\w+ ){0,4}safe\b", "help_and_protection"))
_SLAC_ONLY = {"capacity_for_improvement", "safe", "staying_safe", "health_contribution", "being_healthy",
              "enjoying_achieving", "positive_contribution", "economic_wellbeing", "quality_of_provision",
              "ambition_prioritisation", "performance_management", "partnership_working", "equality_diversity"}


def _report_kind(question: str, asks_judgement: bool) -> str | None:
    kinds = {kind for kind, pattern in _KINDS if re.search(pattern, question, re.I)}
    if len(kinds) == 1:
        return kinds.pop()
    return "inspection" if not kinds and asks_judgement else None   # mixed kinds: no single report


def _judgement(question: str, year: int | None) -> tuple[tuple[str, ...], str | None]:
    """(areas named, 2011-framework scope). Areas follow the framework the year implies: before 2013
    Ofsted used the 2009-2012 safeguarding and looked after children framework."""
    def found(patterns: Sequence[tuple[str, str]]) -> list[str]:
        hits = sorted((m.start(), area) for pattern, area in patterns
                      for m in [re.search(pattern, question, re.I)] if m)
        return list(dict.fromkeys(area for _, area in hits))

    specific = found(_AREAS_SPECIFIC)
    areas = specific or found(_AREAS_BROAD)
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


# ----------------------------------------------------------------------------------------- glossary

@dataclass(frozen=True)
class _Term:
    text: str
    pattern: re.Pattern[str]
    words: frozenset[str]


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", phrase.replace("’", "'"))]
    return re.compile(r"\b" + r"[\s\-]+".join(words) + r"(?:s|es)?\b", re.I)


def _abbreviation_pattern(short: str, exact_case: bool) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(w) for w in short.split())
    flags = 0 if exact_case or len(short) < 3 or any(c.islower() for c in short) else re.I
    return re.compile(rf"(?<![\w&]){body}(?:s|'s)?(?![\w&])", flags)


def _singular(word: str) -> str:
    word = word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
    return "child" if word == "children" else word


def _content_words(text: str) -> frozenset[str]:
    """Lower-case, singular words other than stopwords: what two wordings must share to be the same."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"['’]s?\b", "", text.lower()))
    return frozenset(_singular(w) for w in words if w not in _STOP)


@lru_cache(maxsize=1)
def _glossary() -> tuple[tuple[_Term, ...], ...]:
    data = tomllib.loads((_DATA / "glossary.toml").read_text(encoding="utf-8"))
    groups = []
    for entry in data.get("abbreviation", ()):
        exact = bool(entry.get("exact_case"))
        groups.append(tuple(_Term(s, _abbreviation_pattern(s, exact), frozenset({s.lower()}))
                            for s in entry["short"])
                      + tuple(_Term(p, _phrase_pattern(p), _content_words(p)) for p in entry["long"]))
    for entry in data.get("synonym", ()):
        groups.append(tuple(_Term(t, _phrase_pattern(t), _content_words(t)) for t in entry["terms"]))
    return tuple(groups)


def expand(question: str) -> tuple[str, ...]:
    """Terms to add to a question so abbreviations and their long forms both appear: 'LAC' adds
    'looked after children'..., 'looked after children' adds 'LAC', 'CLA'... A term whose words the
    question already has adds nothing."""
    text = question.replace("’", "'")
    present = set(_content_words(text))
    added: list[str] = []
    for group in _glossary():
        if not any(t.pattern.search(text) for t in group):
            continue
        for term in group:
            if term.pattern.search(text) or term.words <= present:
                continue
            added.append(term.text)
            present |= term.words
    return tuple(added)


# ------------------------------------------------------------------------------------- parse_query

_STOP = frozenset("""a an the of in on at to for from by with and or but as is are was were be been being do does
did has have had what which who whom whose when where why how many much its it this that these those there their
they them his her our your any all each both some such than then not no into about over under between among
across per via s i we you""".split())
_CONNECTOR = r"(?:,|;|&|\band\b|\bor\b|\bin\b|\bfor\b|\bof\b|\bat\b|\bbetween\b|\bfrom\b|\bwith\b|\bthe\b|\bto\b" \
             r"|\bversus\b|\bvs\b\.?|\bamong\b|\bacross\b|\bby\b)"
_PREFIX = re.compile(r"(?:\bthe\s+)?(?:(?:London|Royal|Metropolitan)\s+)?(?:Borough|City|County|District)\s+"
                     r"(?:Council\s+)?of\s+$|\bthe\s+$", re.I)
_SUFFIX = re.compile(r"^(?:['’]s\b)?(?:\s+(?:Metropolitan\s+)?(?:Borough|City|County)?\s*Council(?:['’]s)?\b)?",
                     re.I)
_MARK = "\x00"


def _mention_span(text: str, m: Mention) -> tuple[int, int]:
    """A mention with "the London Borough of" before it and "'s" / "Council" after it."""
    prefix = _PREFIX.search(text[:m.start])
    return prefix.start() if prefix else m.start, m.end + len(_SUFFIX.match(text[m.end:]).group(0))


def _topic(question: str, marked: Sequence[tuple[int, int]], dropped: Sequence[tuple[int, int]]) -> str:
    """The question with authorities, years and comparison words cut out. Marked spans (a name in
    "in Hillingdon and Wandsworth") also take the connectors they leave dangling; dropped spans
    ("Wandsworth's", "(2015)") are cut alone."""
    text, last = "", 0
    for start, end, mark in sorted([(s, e, _MARK) for s, e in marked] + [(s, e, "") for s, e in dropped]):
        if start >= last:
            text += question[last:start] + mark
            last = end
        elif end > last and mark:
            last = end
    text += question[last:]
    text = re.sub(rf"{_MARK}(?:\s*(?:,|&|\band\b|\bor\b)?\s*{_MARK})+", _MARK, text, flags=re.I)
    text = re.sub(rf"(?:\s*{_CONNECTOR})*\s*{_MARK}", " ", text, flags=re.I)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\s+([,.?;:!])", r"\1", re.sub(r"\s+", " ", text)).strip(" ,;:")
    return re.sub(r"^(?:[,.;:]\s*)+", "", text)


_TAG = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|</?[A-Za-z][^<>]{0,300}>", re.I | re.S)


def clean_question(question: str | None) -> str:
    """The question as text to search: markup tags and terminal/control characters removed (pasted from a
    web page or a terminal, they only add noise), whitespace collapsed. Raises QueryError with what to do
    when nothing searchable is left or the text is too long to be a question."""
    from rag.errors import QueryError
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
    corpus = list(dict.fromkeys(canonical_authority(c) or c for c in corpus_authorities if c))
    mentions = find_mentions(question, in_question=True, extra=corpus)
    named = list(dict.fromkeys(m.authority for m in mentions))
    authorities = [a for a in named if a in corpus]
    unknown = [a for a in named if a not in corpus]

    # "the royal borough", unqualified, means the corpus's royal borough when it has only one.
    royal = [a for a in corpus if a in royal_authorities()]
    if len(royal) == 1 and royal[0] not in authorities and any(
            not any(m.start <= r.start() < m.end for m in mentions)
            for r in re.finditer(r"\bthe royal borough\b(?!\s+of\b)", question, re.I)):
        authorities.append(royal[0])

    groups = list(_GROUP.finditer(question))
    compare_words = [m for m in _COMPARE.finditer(question) if not _NATIONAL.match(question[m.end():])]
    if groups and (not authorities or any("other" in g.group(0).lower() for g in groups)):
        authorities += [a for a in corpus if a not in authorities]
    if not authorities and not unknown and len(corpus) == 1:
        authorities = corpus[:]     # a one-authority corpus: every question is about it
    is_comparison = len(named) >= 2 or bool(groups) or bool(compare_words)

    years = _year_mentions(question)
    pairs = _paired_years(question, mentions, years)
    report_years = {y.year for y in years if y.role == "report"} | {y for _, y in pairs}
    candidates = {y.year for y in years if y.role == "candidate"}
    if report_years:
        year = report_years.pop() if len(report_years) == 1 else None
    else:
        year = candidates.pop() if len(candidates) == 1 and all(y.role != "data" for y in years) else None

    asks = bool(_ASKS_JUDGEMENT.search(question))
    areas, scope = _judgement(question, year) if asks else ((), None)

    marked = [(g.start(), g.end()) for g in groups] + [(c.start(), c.end()) for c in compare_words]
    dropped = []
    for m in mentions:
        (dropped if re.match(r"['’]s\b", question[m.end:]) else marked).append(_mention_span(question, m))
    for y in years:
        if y.role != "data":
            wrap = re.search(r"(?:\(\s*|\bin\s+)$", question[:y.start], re.I)
            close = re.match(r"\s*\)", question[y.end:]) if wrap and "(" in wrap.group(0) else None
            dropped.append((wrap.start() if wrap else y.start, y.end + (close.end() if close else 0)))
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
        is_comparison=is_comparison,
        topic=_topic(question, marked, dropped),
        asks_judgement=asks,
        judgement_area=areas[0] if len(areas) == 1 else None,
        judgement_areas=areas,
        judgement_scope=scope,
        expansions=added,
    )


def __getattr__(name: str):
    # standalone_question lives in rag.followup, which builds on this module: importing it lazily keeps
    # `from rag.query import standalone_question` working without an import cycle.
    if name == "standalone_question":
        from rag.followup import standalone_question
        return standalone_question
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
