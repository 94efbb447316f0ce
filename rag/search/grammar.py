"""The grammar of questions about reports, shared by question parsing and follow-up rewriting: years
and what they refer to (a report, or data), groups of authorities ('each of the boroughs'), comparison
words, authority mentions with their "London Borough of" and "'s", and the topic left when all of those
are cut out."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.ofsted.authorities import Mention
from rag.text.words import content_words

YEAR = r"(?:19[5-9]\d|20\d\d)"
MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
KIND_WORD = (r"(?:inspections?|reports?|overview|review|judge?ments?|self[- ]?(?:assessment|evaluation)"
              r"|inspectors|findings|visit)")
_DATA_BEFORE = re.compile(rf"(?:\b{MONTH}|\b(?:since|from|until|till|before|after|by|between|to|through|"
                          rf"during|academic year|financial year|year)|[-–/]"
                          rf"|\bbetween\b[^?.;]{{0,40}}\band)\s*$", re.I)
_REPORT_AFTER = re.compile(rf"^\s+(?:(?!(?:and|or|to|in|of|the|at|by|for)\b)[A-Za-z'’]+\s+){{0,2}}"
                           rf"{KIND_WORD}\b", re.I)
_REPORT_BEFORE = re.compile(r"\b(?:inspected|inspection|graded|judged|rated|Ofsted|published|report(?:ed)?)"
                            r"\b(?:\s+\w+){0,2}\s+in\s+$", re.I)


@dataclass(frozen=True)
class YearMention:
    year: int
    start: int
    end: int
    role: str           # report | candidate | data


def year_mentions(text: str) -> list[YearMention]:
    out: list[YearMention] = []
    for m in re.finditer(rf"(?<![\d£$.,]){YEAR}(?!\d|%|,\d)", text):
        year, before, after = int(m.group(0)), text[:m.start()], text[m.end():]
        if re.match(r"\s*[-–/]\s*\d{2}\b", after) or _DATA_BEFORE.search(before) and \
                not _REPORT_AFTER.match(after):
            role = "data"               # "2014-15", "March 2015", "since 2012": about data, not a report
        elif re.search(r"\(\s*$", before) and re.match(r"\s*\)", after) or _REPORT_AFTER.match(after) \
                or _REPORT_BEFORE.search(before):
            role = "report"             # "(2015)", "2013 inspection", "inspected in 2015"
        else:
            role = "candidate"          # "in 2011": the report's year unless the question says otherwise
        out.append(YearMention(year, m.start(), m.end(), role))
        short = re.match(r"\s*[-–/]\s*(\d{2})\b", after)
        if short:
            out.append(YearMention(year // 100 * 100 + int(short.group(1)), m.end(), m.end(), "data"))
    return out



COMPARE = re.compile(r"\b(?:compar(?:e|es|ed|ing|ison|isons)|contrast(?:s|ed|ing)?|differ(?:s|ed|ence|ences)?"
                      r"|versus|vs\b\.?|similarit(?:y|ies)|in common|side by side)(?!\w)", re.I)
NATIONAL = re.compile(r"^\W*(?:\w+\W+){0,4}?(?:nationally|national|england|neighbours?|comparators?|average"
                       r"|regional(?:ly)?)\b", re.I)
GROUP_NOUN = r"(?:local\s+)?(?:authorities|boroughs|councils|LAs|reports|inspections)"
GROUP = re.compile(rf"\b(?:(?:in\s+)?(?:each|all|both|every|across|between)\s+(?:of\s+)?(?:the\s+|these\s+|those\s+)?"
                    rf"(?:\w+\s+)?{GROUP_NOUN}|which\s+(?:of\s+the\s+(?:\w+\s+)?{GROUP_NOUN}|(?:local\s+)?"
                    rf"(?:authority|borough|council|LA)\b)|(?:the\s+)?other\s+(?:\w+\s+)?{GROUP_NOUN})"
                    rf"(?:\s+(?:covered|included|in)\s+(?:by\s+|in\s+)?(?:the\s+)?(?:corpus|collection|reports))?",
                    re.I)
CONNECTOR = r"(?:,|;|&|\band\b|\bor\b|\bin\b|\bfor\b|\bof\b|\bat\b|\bbetween\b|\bfrom\b|\bwith\b|\bthe\b|\bto\b" \
             r"|\bversus\b|\bvs\b\.?|\bamong\b|\bacross\b|\bby\b)"
_PREFIX = re.compile(r"(?:\bthe\s+)?(?:(?:London|Royal|Metropolitan)\s+)?(?:Borough|City|County|District)\s+"
                     r"(?:Council\s+)?of\s+$|\bthe\s+$", re.I)
_SUFFIX = re.compile(r"^(?:['’]s\b)?(?:\s+(?:Metropolitan\s+)?(?:Borough|City|County)?\s*Council(?:['’]s)?\b)?",
                     re.I)
_MARK = "\x00"


def mention_span(text: str, m: Mention) -> tuple[int, int]:
    """A mention with "the London Borough of" before it and "'s" / "Council" after it."""
    prefix = _PREFIX.search(text[:m.start])
    return prefix.start() if prefix else m.start, m.end + len(_SUFFIX.match(text[m.end:]).group(0))


def cut_topic(question: str, marked: Sequence[tuple[int, int]], dropped: Sequence[tuple[int, int]]) -> str:
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
    text = re.sub(rf"(?:\s*{CONNECTOR})*\s*{_MARK}", " ", text, flags=re.I)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\s+([,.?;:!])", r"\1", re.sub(r"\s+", " ", text)).strip(" ,;:")
    return re.sub(r"^(?:[,.;:]\s*)+", "", text)


# Words of a question that name no topic: question words, the report and its authority, comparison verbs.
QUESTION_NOISE = frozenset("""what which whose whom how many much did does do was were is are the a an in of for
and to by at on with about according report reports inspection ofsted council authority borough local
compare comparison differ between each both say said find found give gave describe tell inspector inspectors
happen happened happens going anything something mention mentioned mentions""".split())


_NOISE_STEMS = frozenset(content_words(" ".join(QUESTION_NOISE)))


def last_sentence(text: str) -> str:
    """What a question asks, when a sentence before it only sets the scene ('X was rated good in 2022. What
    did it need to improve?')."""
    return re.split(r"(?<=[.?!])\s+", text.strip())[-1]


# 'Was X rated inadequate?', 'In 2021, did Ofsted find ...?', 'hertfordshire 2015 - has it improved?': a question
# whose answer is yes or no (after a scene-setting phrase closed by a comma or a dash).
_YES_NO = re.compile(r"^\W*(?:[^,?;]{0,60}?(?:,|\s[-–—:])\s*)??(?:and\s+|so\s+|but\s+|then\s+)?"
                     r"(?:was|were|is|are|did|does|do|has|have|had|can|could|will|would|should)\b", re.I)


def asks_yes_no(question: str) -> bool:
    """Whether the question's last sentence asks yes or no (not 'was it A or B?', which asks which)."""
    last = last_sentence(question)
    return bool(_YES_NO.match(last)) and not re.search(r"\bor\b(?!\s+not\b)[^?]*\?\s*$", last, re.I)


def topic_words(question: str) -> set[str]:
    """The content words of a question that say what it is about (years are which report, not what)."""
    return {w for w in content_words(question) if w not in _NOISE_STEMS and not re.fullmatch(r"(?:19|20)\d\d", w)}
