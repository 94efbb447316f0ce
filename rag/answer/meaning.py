"""Checks of meaning, not only of shared words, between a claim and the sentences of its cited paragraph
that best support it (rag.answer.verify finds them): the same polarity (not, failed, too few; above and
below), no stronger quantifier than the report's ('all' where it says 'most'), each number about the same
thing, each grade about the same area, an earlier inspection's grade not passed off as the current one.

Each check returns why the claim is not supported, or "" when it finds nothing wrong. Rules only: what
they cannot decide passes to the word-overlap check, so they only ever take a verification away.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from rag.ofsted.grades import GRADE_WORD, normalise_grade, same_area
from rag.search.question import areas_named
from rag.text.words import STOP_WORDS, numbers_in, split_sentences, stem

_TOKEN = re.compile(r"\d[\d,.]*%?|[A-Za-z][A-Za-z'’-]*")
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nor|without|cannot|can't|isn't|aren't|wasn't|weren't|don't|doesn't|didn't|hasn't"
    r"|haven't|fail(?:s|ed|ing|ure)?|lack(?:s|ed|ing)?|insufficient(?:ly)?|too (?:few|many|long|slow|often)"
    r"|unable|absence of|neither)\b", re.I)
# 'Too early to measure the impact': the report withholds judgement on an effect the claim says happened.
_TOO_EARLY = re.compile(r"\b(?:too (?:soon|early)|early days)\b|\b(?:not yet|yet to) (?:\w+ )?(?:see|seen|show|shown"
                        r"|demonstrat\w*|evident|measur\w*|evaluat\w*|impact\w*|had|have)\b", re.I)
_ACHIEVED = re.compile(r"\balready\b|\b(?:has|have|had)(?: already)? (?:led|resulted|made|had|improved|reduced|increased"
                       r"|strengthened|transformed|secured|achieved|delivered)\b", re.I)
# Words of one meaning and their opposites: a claim that says one where the report says the other is wrong.
_OPPOSITES = (
    ("above", "below"), ("higher", "lower"), ("more", "fewer"), ("more", "less"), ("increase", "decrease"),
    ("increase", "reduc"), ("increase", "fell"), ("increase", "fall"), ("increase", "declin"), ("rose", "fell"),
    ("risen", "fallen"), ("rise", "fall"), ("rise", "reduc"), ("ris", "reduc"), ("ris", "declin"),
    ("improv", "worsen"), ("improv", "declin"), ("improv", "deteriorat"), ("consistent", "inconsisten"),
    ("consistently", "inconsistently"), ("sufficient", "insufficient"), ("enough", "insufficient"),
    ("strong", "weak"), ("good", "poor"), ("timely", "delay"), ("quick", "slow"), ("better", "worse"),
    ("exceed", "below"), ("stable", "unstable"), ("effective", "ineffective"), ("adequate", "inadequate"),
    ("favourabl", "worse"), ("increas", "stable"), ("fell", "stable"),
)
_UNIVERSAL = re.compile(r"\b(?:all|every|always|none|routinely|reliably|invariably|universally"
                        r"|without exception|entire(?:ly)?|wholly)\b", re.I)
_ALL = re.compile(r"\b(?:all|every|each|both|always|none|100%)\b", re.I)
_LIMITED = re.compile(r"\b(?:most|some|many|majority|minority|a number of|several|few|a small number|generally"
                      r"|mostly|often|usually|sometimes|occasionally|at times|not all|not always"
                      r"|in (?:a|the) (?:small )?number of"
                      r"|in (?:one|two|a few) cases?"
                      r"|or|partly|partially|largely|nearly|almost|mainly|too many|inconsistent(?:ly)?)\b", re.I)
_GRADING = re.compile(r"\b(?:judged|graded|rated|grade[sd]?|judge?ments?|rating)\b", re.I)
_EARLIER = re.compile(r"\b(?:previous(?:ly)?|last inspect(?:ed|ion)|earlier|prior|at the last|was last|when last"
                      r"|since (?:the )?(?:last|previous))\b", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_LINK_WORDS = STOP_WORDS | {"per", "cent", "percent", "%", "approximately", "around", "about", "over", "under",
                            "nearly", "almost", "some", "just"}


def words(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def _negated_words(text: str) -> set[str]:
    """Stems of the content words a negation governs: the three words after 'not', 'failed to', 'too few',
    up to an 'of' that starts another phrase ('a lack of awareness | of private fostering': the awareness is
    lacking, not the fostering)."""
    out: set[str] = set()
    for m in _NEGATION.finditer(text):
        following: list[str] = []
        for w in words(text[m.end():])[:4]:
            if w == "of" and following:
                break
            if w not in STOP_WORDS:
                following.append(w)
        out |= {stem(w) for w in following[:3]}
    return out


def polarity(claim: str, support: str) -> str:
    """A negation or an opposite on one side only: 'do not comply' against 'comply'."""
    claim_words, support_words = words(claim), words(support)
    claim_stems, support_stems = {stem(w) for w in claim_words}, {stem(w) for w in support_words}
    content_claim = {stem(w) for w in claim_words if w not in STOP_WORDS}
    content_support = {stem(w) for w in support_words if w not in STOP_WORDS}
    negated_in_claim, negated_in_support = _negated_words(claim), _negated_words(support)
    if (negated_in_support & content_claim) - negated_in_claim and not _NEGATION.search(claim):
        return "the report says the opposite (negation)"
    if (negated_in_claim & content_support) - negated_in_support and not _NEGATION.search(support):
        return "the report says the opposite (negation)"
    if _TOO_EARLY.search(support) and _ACHIEVED.search(claim) and not _TOO_EARLY.search(claim):
        return "the report says it is too early to see that effect"
    for a, b in _OPPOSITES:
        for mine, theirs in ((a, b), (b, a)):
            if _has(claim_stems, mine) and _has(support_stems, theirs) and not _has(support_stems, mine):
                return f"the report says '{theirs}', the claim '{mine}'"
    return ""


def only_negated(claim: str, paragraph: str) -> str:
    """Words of the claim that the paragraph only ever uses under a negation ('they are not yet fully
    embedded' against 'the improvements are now fully embedded'), wherever the best quote was taken from."""
    if _NEGATION.search(claim) or _TOO_EARLY.search(claim):
        return ""
    negated: set[str] = set()
    plain: set[str] = set()
    for sentence in split_sentences(paragraph):
        scope = _negated_words(sentence)
        negated |= scope
        plain |= {stem(w) for w in words(sentence) if w not in STOP_WORDS} - scope
    claimed = {stem(w) for w in words(claim) if w not in STOP_WORDS and len(w) > 3}
    against = sorted(claimed & (negated - plain))
    # Two words, not one: a lone word ('looked', of 'not looked after') is too often a phrase's part.
    return f"the report says '{' '.join(against)}' only with a negation" if len(against) >= 2 else ""


def _has(stems: set[str], prefix: str) -> bool:
    key = stem(prefix)
    return any(s in (prefix, key) or (len(key) >= 4 and s.startswith(key)) for s in stems)


def quantifier(claim: str, support: str, paragraph: str = "") -> str:
    """'All' or 'every' in the claim where the supporting sentences only say 'most', 'some' or 'in one
    case', or where the paragraph says 'most' of the same thing ('all children' against 'most children')."""
    universal = _UNIVERSAL.search(claim)
    if not universal:
        return ""
    if not _ALL.search(support) and _LIMITED.search(support):
        return f"the claim says '{universal.group(0)}', the report does not"
    support = paragraph or support
    following = [w for w in re.findall(r"[a-z][a-z'’-]+", claim[universal.end():])[:4] if w not in STOP_WORDS][:1]
    for noun in following:
        if re.search(rf"\b(?:most|some|many|majority of|minority of|a few|few|several|a number of|not all)\s+"
                     rf"(?:of\s+)?(?:the\s+)?(?:\w+\s+)?{re.escape(noun)}", support, re.I):
            return f"the claim says '{universal.group(0)} {noun}', the report does not"
    return ""


def numbers_bound(claim: str, support: str, context: frozenset[str]) -> str:
    """Each number of the claim is in the supporting sentences with at least one of the words that say
    what it counts (the words right after it, or right before it)."""
    claim_tokens = words(claim)
    support_tokens = words(support)
    for number in sorted(numbers_in(claim) - context):
        if _YEAR.fullmatch(number) or (number.isdigit() and int(number) < 10):
            continue            # years and small counts are written many ways ('2014-15', 'three')
        mine = {stem(w) for w in _neighbours(claim_tokens, number)}
        positions = _positions(support_tokens, number)
        if not mine or not positions:
            continue            # whether the number is there at all is verify's check
        theirs = set()
        for at in positions:
            theirs |= {stem(w) for w in support_tokens[max(0, at - 8):at + 9]}
        if not mine & theirs:
            return f"{number} is about something else in the report"
    return ""


def numbers_swapped(claim: str, support: str) -> str:
    """A number given to the wrong noun of a pair: '397 children' where the report says '294 children and 397
    care leavers'. Only when the report writes a noun right after every use of the number and the claim's
    noun right after another number: an elided noun ('not in contact with eight despite efforts') decides
    nothing."""
    claim_tokens, support_tokens = words(claim), words(support)
    for at, token in enumerate(claim_tokens[:-1]):
        number = next(iter(numbers_in(token)), None)
        noun = claim_tokens[at + 1]
        if number is None or _YEAR.fullmatch(number) or noun in STOP_WORDS or numbers_in(noun):
            continue
        following = {stem(t) for t in claim_tokens[at + 1:at + 5]}     # 'three approved adoptive families'
        theirs = [support_tokens[i + 1] if i + 1 < len(support_tokens) else ""
                  for i in _positions(support_tokens, number)]
        if not theirs or any(not t or t in STOP_WORDS or stem(t) in following for t in theirs):
            continue
        others = [i for i, t in enumerate(support_tokens[:-1]) if numbers_in(t) and number not in numbers_in(t)
                  and stem(support_tokens[i + 1]) == stem(noun)]
        if others:
            return f"the report gives {number} {theirs[0]}, and {support_tokens[others[0]]} {noun}"
    return ""


def _positions(tokens: Sequence[str], number: str) -> list[int]:
    return [i for i, t in enumerate(tokens) if numbers_in(t) & {number}]


def _neighbours(tokens: Sequence[str], number: str) -> list[str]:
    """The content words that say what a number counts: up to two on each side of it."""
    found: list[str] = []
    for at in _positions(tokens, number):
        after = [t for t in tokens[at + 1:at + 6] if t not in _LINK_WORDS and not numbers_in(t)][:2]
        before = [t for t in tokens[max(0, at - 4):at] if t not in _LINK_WORDS and not numbers_in(t)][-2:]
        found += after + before
    return found


def grades_bound(claim: str, support: str, report_year: str = "") -> str:
    """A grade the claim states is in the supporting sentences, and not only as an earlier inspection's."""
    claimed = _grades_in(claim)
    # 'Good' and 'adequate' describe as often as they grade; the other grade words always grade.
    if not claimed or not _GRADING.search(claim) and claimed <= {"good", "adequate"}:
        return ""
    stated = _grades_in(support)
    if claimed - stated:
        return f"{', '.join(sorted(claimed - stated))} is not the grade the report states"
    earlier = _EARLIER.search(support) or any(y != report_year for y in _YEAR.findall(support)) and report_year
    claim_dates_it = _EARLIER.search(claim) or _YEAR.search(claim)
    if earlier and not claim_dates_it:
        return "the report states that grade for an earlier inspection"
    # 'The 2011 inspection judged it good' where the report says 'judged good in the 2010 inspection'.
    claim_years = set(_YEAR.findall(claim))
    for grade in claimed if claim_years else ():
        dated = [set(_YEAR.findall(s)) for s in split_sentences(support) if grade in _grades_in(s)]
        if dated and all(years and not years & claim_years for years in dated):
            return f"the report states {grade} for the {min(set().union(*dated))} inspection"
    return ""


def _grades_in(text: str) -> set[str]:
    return {normalise_grade(g) for g in GRADE_WORD.findall(text)}


# Names one area goes by across frameworks and in plain words ('leadership' for 'impact of leaders').
_AKIN = (frozenset({"leadership_management", "leadership_management_governance", "impact_of_leaders"}),
         frozenset({"looked_after_permanence", "children_in_care"}),
         frozenset({"help_and_protection", "safe", "staying_safe"}))


def _akin(area: str) -> frozenset[str]:
    return next((family for family in _AKIN if area in family), same_area(area))


def grade_areas(claim: str, support: str) -> str:
    """A grade the claim gives one area is said, in every supporting sentence that states it, of another
    area: 'the graded judgement for adoption performance is good' does not support 'care leavers were
    graded good'. A claim that names no area by name ('safeguarding in the fostering service'), or a
    sentence that names none, cannot decide, so the claim passes."""
    claimed_areas = set().union(*(_akin(a) for a in areas_named(claim, broad=False)))
    if not claimed_areas:
        return ""
    for grade in dict.fromkeys(normalise_grade(g) for g in GRADE_WORD.findall(claim)):
        stating = [s for s in split_sentences(support) if grade in _grades_in(s)]
        named = [set(areas_named(s)) for s in stating]
        if named and all(named) and not any(areas & claimed_areas for areas in named):
            other = sorted(set().union(*named))[0].replace("_", " ")
            return f"the report states {grade} for {other}, not for what the claim names"
    return ""


def meaning_problem(claim: str, support: str, *, paragraph: str = "", context: frozenset[str] = frozenset(),
                    report_year: str = "") -> str:
    """The first reason the supporting sentences (in their `paragraph`) do not say what the claim says,
    or "". A claim the paragraph states word for word says what the report says: only an earlier
    inspection's grade passed off as the current one is still a problem."""
    if _verbatim(claim, paragraph or support):
        return grades_bound(claim, support, report_year)
    for problem in (polarity(claim, support), only_negated(claim, paragraph or support),
                    quantifier(claim, support, paragraph),
                    numbers_bound(claim, paragraph or support, context), numbers_swapped(claim, paragraph or support),
                    grades_bound(claim, support, report_year),
                    grade_areas(claim, support)):
        if problem:
            return problem
    return ""


def _verbatim(claim: str, paragraph: str) -> bool:
    """The claim, its citation marks and final stop aside, is a run of the paragraph's words."""
    def plain(text: str) -> str:
        return " ".join(words(re.sub(r"\[\d+(?:,\s*\d+)*\]", " ", text)))
    wanted = plain(claim)
    return len(wanted.split()) >= 4 and wanted in plain(paragraph)
