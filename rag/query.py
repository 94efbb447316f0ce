"""Understanding a question before searching: which authorities, which report (year, kind), whether it
compares authorities or asks for a graded judgement, its wording expanded with the domain's
abbreviations, and the rewriting of a follow-up into a standalone question. Rules and data only, no model.

Authority names come from data/authorities.toml (every English council with children's services),
abbreviations from data/glossary.toml. Authority matching is done on word tokens, longest name first,
so "Royal Borough of Windsor and Maidenhead" is one mention of Windsor and Maidenhead, "&" and "and"
are the same word and a name may run across a line break.
"""
from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"
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


# ------------------------------------------------------------------------------------------ authorities

@dataclass(frozen=True)
class Mention:
    authority: str      # canonical name
    start: int          # character span in the text
    end: int
    short_form: bool    # matched through an ambiguous short form ("Windsor")


@dataclass(frozen=True)
class _Name:
    authority: str | None   # None: a phrase that is not an authority ("Chelsea and Westminster Hospital")
    tokens: tuple[str, ...]  # as written in the data, to check case where it matters
    short_form: bool = False
    capitalised: bool = False   # an ordinary English word too: must be capitalised, not sentence-initial
    exact_case: bool = False    # an acronym ("RBWM", "H&F"): must be written as listed


_TOKEN = re.compile(r"[A-Za-z0-9]+|&")


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


def _norm(token: str) -> str:
    return "and" if token == "&" else token.lower()


def _case_kept(token: str) -> str:
    return "and" if token in ("&", "and") else token


def _name(authority: str | None, alias: str, short_form: bool = False, capitalised: bool = False) -> _Name:
    tokens = tuple(m.group(0) for m in _tokens(alias))
    letters = "".join(c for c in alias if c.isalpha())
    exact = letters.isupper() or any(any(c.isupper() for c in t[1:]) for t in tokens)
    return _Name(authority, tokens, short_form, capitalised, exact)


@dataclass(frozen=True)
class _Gazetteer:
    names: dict[tuple[str, ...], tuple[_Name, ...]]
    kinds: dict[str, str]
    royal: frozenset[str]
    longest: int


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    data = tomllib.loads((_DATA / "authorities.toml").read_text(encoding="utf-8"))
    names: list[_Name] = [_name(None, p) for p in data["not_authorities"]["phrases"]]
    kinds, royal = {}, set()
    for entry in data["authority"]:
        canonical, caps = entry["name"], set(entry.get("capitalised", ()))
        kinds[canonical] = entry["kind"]
        if entry.get("royal"):
            royal.add(canonical)
        for alias in [canonical, *entry.get("aliases", ())]:
            names.append(_name(canonical, alias, capitalised=alias in caps))
        for alias in entry.get("short", ()):
            names.append(_name(canonical, alias, short_form=True, capitalised=alias in caps))
    return _build(names, kinds, frozenset(royal))


def _build(names: Sequence[_Name], kinds: dict[str, str], royal: frozenset[str]) -> _Gazetteer:
    table: dict[tuple[str, ...], list[_Name]] = {}
    for n in names:
        table.setdefault(tuple(_norm(t) for t in n.tokens), []).append(n)
    return _Gazetteer({k: tuple(v) for k, v in table.items()}, kinds, royal, max(map(len, table)))


@lru_cache(maxsize=32)
def _with_extra(extra: tuple[str, ...]) -> _Gazetteer:
    """The gazetteer plus corpus authorities it does not know (a Welsh council, a test name)."""
    base = _gazetteer()
    if not extra:
        return base
    names = [n for group in base.names.values() for n in group] + [_name(e, e) for e in extra]
    return _build(names, base.kinds, base.royal)


def known_authorities() -> tuple[str, ...]:
    return tuple(_gazetteer().kinds)


def authority_kind(authority: str) -> str | None:
    """london | metropolitan | unitary | county, or None for a name not in the list."""
    return _gazetteer().kinds.get(authority)


def canonical_authority(name: str) -> str | None:
    """'London Borough of Hammersmith & Fulham' -> 'Hammersmith and Fulham'; None if no authority."""
    mentions = find_mentions(name, in_question=True)
    return mentions[0].authority if mentions else None


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \t\"'‘“(")
    return not before or before[-1] in ".!?:\n"


def _valid(name: _Name, words: Sequence[re.Match[str]], text: str, in_question: bool) -> bool:
    written = [w.group(0) for w in words]
    if name.short_form and not in_question:
        return False
    if name.exact_case and [_case_kept(w) for w in written] != [_case_kept(t) for t in name.tokens]:
        return False
    if name.capitalised and (not written[0][:1].isupper() or _sentence_start(text, words[0].start())):
        return False
    return True


def find_mentions(text: str, *, in_question: bool = False, extra: Sequence[str] = ()) -> list[Mention]:
    """Authority mentions in order, longest name first at each word. Ambiguous short forms ("Windsor",
    "Kensington", "Richmond") count only when in_question: in a report's own text they are too often
    a hospital, a town in another authority or part of a partner's name."""
    gazetteer = _with_extra(tuple(e for e in extra if e not in _gazetteer().kinds))
    words = _tokens(text)
    norms = [_norm(w.group(0)) for w in words]
    found: list[Mention] = []
    i = 0
    while i < len(words):
        for n in range(min(gazetteer.longest, len(words) - i), 0, -1):
            match = next((c for c in gazetteer.names.get(tuple(norms[i:i + n]), ())
                          if _valid(c, words[i:i + n], text, in_question)), None)
            if match:
                if match.authority:
                    found.append(Mention(match.authority, words[i].start(), words[i + n - 1].end(),
                                         match.short_form))
                i += n
                break
        else:
            i += 1
    return found


def find_authorities_in_text(text: str) -> list[tuple[str, int]]:
    """(canonical name, mentions) for every authority a report's text names, most mentioned first
    (ties: first mentioned first). Short forms are not counted (see find_mentions)."""
    counts = Counter(m.authority for m in find_mentions(text))
    return sorted(counts.items(), key=lambda kv: -kv[1])


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


def parse_query(question: str, corpus_authorities: Sequence[str]) -> Query:
    corpus = list(dict.fromkeys(canonical_authority(c) or c for c in corpus_authorities if c))
    mentions = find_mentions(question, in_question=True, extra=corpus)
    named = list(dict.fromkeys(m.authority for m in mentions))
    authorities = [a for a in named if a in corpus]
    unknown = [a for a in named if a not in corpus]

    # "the royal borough", unqualified, means the corpus's royal borough when it has only one.
    royal = [a for a in corpus if a in _gazetteer().royal]
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


# ----------------------------------------------------------------------------- standalone_question

_FOLLOW_LEAD = re.compile(r"^\s*(?:(?:and|but|so|also|now|ok(?:ay)?|then)\b[\s,]*)*"
                          r"(?:(?:what|how)\s+about\b|what\s+of\b|(?:the\s+)?same\s+(?:question\s+|thing\s+)?for\b"
                          r"|likewise(?:\s+for)?\b)?\s*(?:(?:on|for|in|with|regarding|about)\b\s*)?", re.I)
_FILLER = re.compile(r"\b(?:too|also|as well|instead|then|please|again|now)\b", re.I)
_KIND_VOCABULARY = frozenset("ofsted inspection inspections report reports overview council councils own review "
                             "judgement judgements self-assessment self-evaluation".split())
_SMALL_TALK = re.compile(r"^\W*(?:thanks?(?: you)?(?: very much)?|cheers|ok(?:ay)?|great|cool|hello|hi|yes|no|sure"
                         r"|good|nice|perfect)\W*$", re.I)
_MORE = re.compile(r"^\W*(?:please\s+)?(?:explain|elaborate|more(?: detail)?|go on|continue|tell me more)"
                   r"(?:\s+please)?\W*$", re.I)
_QUESTION_WORDS = frozenset("""what which who whom whose when where why how many much did does do is are was were
has have had can could would should will""".split())
_VERBS = frozenset("""is are was were be been being do does did has have had get gets got give gives gave given set sets
make makes made use uses used say says said show shows showed find finds found provide provides provided receive
receives received take takes took carry carries carried see sees saw seen meet met reach reached achieve achieved
need needs needed include includes included draft drafted lead leads led share shares shared happen happened
change changed compare compared describe described mean means meant stand stands""".split())
_REFERENT = re.compile(r"\b(those|these|this|that|such|similar|same|comparable|equivalent|corresponding)\s+"
                       r"([A-Za-z][\w\-]*)", re.I)
_SIMILARITY = {"similar", "same", "comparable", "equivalent", "corresponding"}


def standalone_question(question: str, history: Sequence[dict]) -> str:
    """Rewrite a follow-up into a question that stands alone, using the chat history (dicts with
    "role" and "content"). Each earlier user turn is first made standalone in turn, so a chain of
    follow-ups keeps its subject. A question that already names its authority and topic comes back
    unchanged."""
    turns = [(t.get("role"), str(t.get("content") or "").strip()) for t in history]
    turns = [(r, c) for r, c in turns if c]
    if turns and turns[-1] == ("user", question.strip()):
        turns = turns[:-1]      # a history that already holds this question
    previous, answer = None, ""
    for role, content in turns:
        if role == "user":
            previous, answer = (_rewrite(content, previous, answer) if previous else content), ""
        elif role == "assistant":
            answer = content
    return _rewrite(question.strip(), previous, answer) if previous else question


def _named(text: str) -> list[Mention]:
    return find_mentions(text, in_question=True)


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _with_years(text: str, names: Sequence[str]) -> list[str]:
    query = parse_query(text, ())
    return [f"{n} ({query.year_for(n)})" if query.year_for(n) else n for n in names]


def _rewrite(question: str, previous: str, answer: str) -> str:
    if _SMALL_TALK.match(question):
        return question
    if _MORE.match(question):
        return previous
    lead = _FOLLOW_LEAD.match(question)
    rest = question[lead.end():]
    mentions = _named(rest)
    cut = _topic(rest, [_mention_span(rest, m) for m in mentions], [(y.start, y.end) for y in _year_mentions(rest)])
    cut = _FILLER.sub("", cut)
    words = re.findall(r"[A-Za-z][\w\-']*", cut)
    led = bool(lead.group(0).strip())
    if not led:     # "Adoption?": capitalised only because it starts the sentence
        cut = re.sub(r"^(?!Ofsted\b)[A-Z][a-z]+\b", lambda m: m.group(0).lower(), cut)
    if not (_QUESTION_WORDS & {w.lower() for w in words}) and len(words) <= (6 if led else 2):
        return _elliptic(rest, cut, mentions, previous)     # "And on adoption?", "Wandsworth too?"
    return _completed(question, previous, answer)


def _elliptic(rest: str, topic: str, mentions: Sequence[Mention], previous: str) -> str:
    """'What about Wandsworth?', 'And in 2017?', 'And on adoption?': the previous question, retargeted."""
    new_names = list(dict.fromkeys(m.authority for m in mentions))
    paired = dict(parse_query(rest, ()).authority_years)
    new_years = [y.year for y in _year_mentions(rest) if y.role != "data" and y.year not in paired.values()]
    kind_words = re.sub(rf"\b(?:the|{_YEAR})\b", "", topic, flags=re.I).strip(" ?.!,")
    if kind_words and not {w.lower().strip("'’s") for w in kind_words.split()} <= _KIND_VOCABULARY:
        return _new_topic(kind_words, new_names, new_years, rest, previous)
    labelled = [f"{n} ({paired[n]})" if n in paired else n for n in new_names]
    text = _swap_authorities(previous, labelled) if new_names else previous
    if kind_words:      # another report: the previous one's year and name no longer apply
        text = re.sub(rf",?\s+(?:according to|in) the (?:{_YEAR}\s+)?(?:[\w'’]+\s+)?{_KIND_WORD}\b", "", text,
                      flags=re.I)
    if new_years or new_names or kind_words:
        text = _drop_report_years(text, keep=labelled)
    end = re.search(r"[?.!]*\s*$", text).start()
    if kind_words:      # "What about the 2017 overview?"
        phrase = _topic(rest, [_mention_span(rest, m) for m in mentions], [])
        return f"{text[:end]}, according to the {_strip_lead_article(phrase)}?"
    if new_years:
        return f"{text[:end]} in {new_years[0]}{text[end:] or '?'}"
    return text


def _strip_lead_article(text: str) -> str:
    return re.sub(r"^(?:the|a|an|their|its|his|her|our)\s+", "", text.strip(" ?.!,"), flags=re.I)


def _new_topic(topic: str, names: list[str], years: list[int], rest: str, previous: str) -> str:
    before = parse_query(previous, ())
    if names:
        labelled = [f"{n} ({years[0]})" for n in names] if years else _with_years(rest, names)
    else:
        names = list(dict.fromkeys(m.authority for m in _named(previous)))
        labelled = [f"{n} ({years[0]})" for n in names] if years else _with_years(previous, names)
    topic = _strip_lead_article(topic)
    if not names:
        return f"What do the reports say about {topic}?"
    if len(names) > 1 or before.is_comparison:
        return f"Compare {_join(labelled)} on {topic}."
    if before.asks_judgement:
        return f"What judgement did {labelled[0]} get for {topic}?"
    return f"What do the reports say about {topic} in {labelled[0]}?"


def _swap_authorities(text: str, names: Sequence[str]) -> str:
    mentions = _named(text)
    distinct = list(dict.fromkeys(m.authority for m in mentions))
    if not distinct:
        return f"In {_join(names)}, {_lower_first(text)}"
    if len(distinct) == 1:      # every mention of the one authority becomes the new one(s)
        for m in reversed(mentions):
            text = text[:m.start] + _join(names) + text[m.end:]
        return text
    first, last = mentions[0], mentions[-1]
    if len(names) == 1:         # a comparison narrowed to one authority: ask its topic of that one
        return _ask_topic_of(text, names)
    between = text[first.start:last.end]
    for m in mentions:
        between = between.replace(text[m.start:m.end], "")
    if re.fullmatch(rf"(?:[\s,&()]|\band\b|{_YEAR})*", between):     # one list: "X (2013), Y and Z"
        return text[:first.start] + _join(names) + text[last.end:]
    return _ask_topic_of(text, names)


def _ask_topic_of(text: str, names: Sequence[str]) -> str:
    topic = parse_query(text, ()).topic.rstrip(" ?.")
    if topic.split(" ", 1)[0].lower() in _QUESTION_WORDS:
        return f"{topic[:1].upper()}{topic[1:]} in {_join(names)}?"
    about = "" if re.match(r"(?:on|about)\b", topic) else "about "
    return f"What do the reports say {about}{topic} in {_join(names)}?"


def _drop_report_years(text: str, keep: Sequence[str] = ()) -> str:
    """Remove the report year of the previous question ('(2013)', 'in 2013', 'the 2013 inspection'),
    since another authority's report has another year; dates about data, and the years inside the
    new names (`keep`: "Hillingdon (2013)"), stay."""
    kept = [(m.start(), m.end()) for k in keep for m in re.finditer(re.escape(k), text)]
    for y in sorted(_year_mentions(text), key=lambda y: -y.start):
        if y.role == "data" or any(s <= y.start < e for s, e in kept):
            continue
        wrap = re.search(r"(?:\s*\(\s*|\s+in\s+)$", text[:y.start], re.I)
        close = re.match(r"\s*\)", text[y.end:]) if wrap and "(" in wrap.group(0) else None
        start = wrap.start() if wrap else y.start
        end = y.end + (close.end() if close else 0) + (0 if wrap else len(re.match(r"\s*", text[y.end:]).group(0)))
        text = text[:start] + text[end:]
    return text


def _lower_first(text: str) -> str:
    first = re.match(r"[A-Z][a-z]*\b", text)
    if first and (first.group(0).lower() in _STOP | _QUESTION_WORDS or first.group(0) in ("Name", "List")):
        return text[0].lower() + text[1:]
    return text


def _completed(question: str, previous: str, answer: str) -> str:
    """A full question that leans on the previous turn: give it the previous authority if it names
    none, and spell out what 'those assessments', 'a similar target' or 'it' refer to."""
    text = _resolve_referents(question, previous, answer)
    if not _named(question) and not _GROUP.search(question):
        names = list(dict.fromkeys(m.authority for m in _named(previous)))
        if names:
            own = _content_words(question)
            if text == question and len(own) <= 3:
                text = _replace_pronoun(text, previous)
            if text == question and len(own) <= 3 and not own & _content_words(previous):
                # "What was the national average?", "Why?": too short to search without the old topic
                runs = _key_phrase(previous, exclude=own, count=2)
                end = re.search(r"[?.!]*\s*$", text).start()
                text = f"{text[:end]} ({runs}){text[end:]}" if runs else text
            text = f"In {_join(_with_years(previous, names))}, {_lower_first(_drop_conjunction(text))}"
    return _drop_conjunction(text) if text != question else text


def _drop_conjunction(text: str) -> str:
    """'And in Hammersmith, ...' -> 'In Hammersmith, ...' once the question stands alone."""
    stripped = re.sub(r"^(?:and|but|so|also|then)\b[\s,]*", "", text, flags=re.I)
    return stripped[:1].upper() + stripped[1:] if stripped != text else text


def _key_phrase(text: str, exclude: frozenset[str] = frozenset(), count: int = 1) -> str:
    """The longest run(s) of content words in a question's topic: 'fostering recruitment strategy'."""
    topic = parse_query(text, ()).topic
    runs, run = [], []
    for word in re.findall(r"[A-Za-z0-9][\w\-'’]*", topic) + [""]:
        plain = re.sub(r"['’]s$", "", word.lower())
        if word and plain not in _STOP | _QUESTION_WORDS | _VERBS and _singular(plain) not in exclude:
            run.append(word)
        else:
            runs.append(run)
            run = []
    longest = sorted((r for r in runs if r), key=len, reverse=True)[:count]
    return ", ".join(" ".join(r) for r in sorted(longest, key=runs.index))


def _modifiers(head: str, context: str) -> str:
    """Words that qualify `head` where the earlier turn said it: 'early help' for 'assessments' in
    '... to draft early help assessments (EHAs)'."""
    base = _singular(head.lower())
    head_pattern = "child(?:ren)?" if base == "child" else re.escape(base) + "(?:s|es)?"
    for m in re.finditer(rf"\b{head_pattern}\b", context, re.I):
        before = re.findall(r"[A-Za-z][\w\-]*", context[:m.start()])[-4:]
        words: list[str] = []
        for i in range(len(before) - 1, -1, -1):
            word = before[i]
            if word.lower() in _STOP | _QUESTION_WORDS | _VERBS or (i > 0 and before[i - 1].lower() == "to"):
                break
            words.insert(0, word)
            if len(words) == 3:
                break
        if words:
            return " ".join(words)
    return ""


def _resolve_referents(question: str, previous: str, answer: str) -> str:
    text = question
    for m in reversed(list(_REFERENT.finditer(question))):
        head = m.group(2)
        if head.lower() in _STOP | _QUESTION_WORDS | _VERBS:
            continue        # a pronoun: "how many of those were open"
        modifiers = _modifiers(head, previous) or _modifiers(head, answer)
        if modifiers and modifiers.lower() not in question.lower():
            text = text[:m.start(2)] + modifiers + " " + text[m.start(2):]
        elif m.group(1).lower() in _SIMILARITY:
            key = _key_phrase(previous, exclude=_content_words(question))
            if key:
                text = text[:m.end(2)] + f" ({key})" + text[m.end(2):]
    return text


def _replace_pronoun(question: str, previous: str) -> str:
    """'When was it set up?' after 'What is EHITS?' -> 'When was EHITS set up?'."""
    key = _key_phrase(previous, exclude=_content_words(question))
    if not key or len(key.split()) > 4:
        return question
    return re.sub(r"\bit\b(?!['’])", key, question, count=1)
