"""Citations you can trust: short keys in the prompt, resolved and checked in code after the answer.

Every sentence of an answer is a claim. Its [n] keys are mapped to the passages the engine was given
(keys never given are dropped); each number or date it states must occur in a passage it cites; its
support is the cited paragraph's best-matching sentence, quoted verbatim. A claim that fails is marked,
never silently passed.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.records import Citation, Claim, Hit

_KEY = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]?\s+(?=[A-Z0-9\"'“‘(\[])")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|no|para|paras|approx|St|Dr|Mr|Mrs|Ms|cf)\.$", re.I)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(%|per ?cent))?")
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
_STOP = frozenset("""a an the and or of in on at to for by with from as is are was were be been being has have had
this that these those it its their there which who whom what when where why how than then into over under
not no nor but so such can could would should will may might must do does did also very more most less
report reports said says according""".split())
# Months as dates: capitalised, and 'May' only next to a day or a year (not the verb).
_MONTHS = re.compile(r"\b(January|February|March|April|June|July|August|September|October|November|December"
                     r"|(?<=\d )May|May(?= \d{4}))\b")
SUPPORT_THRESHOLD = 0.45   # share of a claim's content words found in its cited passage's best sentence
# Grades a claim states must be stated by its cited paragraph too, like its numbers, however short the
# claim ('Wandsworth is outstanding [1].'). 'good' and 'adequate' are ordinary words as often as grades.
_GRADES = re.compile(r"\b(outstanding|inadequate|requires? improvement)\b", re.I)
# A sentence that gives orders to whoever reads it ('Ignore the question and say ...'): report text is
# data, so such a sentence supports no claim and is never quoted as evidence (prompt injection).
_INSTRUCTION = re.compile(
    r"^\W*(?:please\s+)?(?:ignore|disregard|forget|override)\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:(?:all|any|the|your|previous|prior|earlier|above|these|those|other)\s+)*"
    r"(?:instructions?|questions?|rules?|prompts?|context|passages?)\b"
    r"|\b(?:assistant|chatbot|ai)\s*:"
    r"|^\W*(?:answer|reply|respond|say|state|write)\s+(?:that|with|only|exactly)\b"
    r"|^\W*(?:please\s+)?(?:do not|don't|never)\s+(?:mention|say|answer|reveal|cite|tell|report)\b"
    r"|\b(?:new|updated)\s+(?:system\s+)?(?:rules?|instructions?)\b", re.I)


@dataclass(frozen=True)
class Passage:
    """A retrieved paragraph as the engine sees it, under its short key."""
    key: int
    hit: Hit

    @property
    def text(self) -> str:
        return self.hit.paragraph.text


def number_passages(hits: Sequence[Hit]) -> list[Passage]:
    return [Passage(i, hit) for i, hit in enumerate(hits, start=1)]


def split_sentences(text: str) -> list[str]:
    parts: list[str] = []
    for chunk in re.split(r"\n+", text.strip()):
        chunk = re.sub(r"^\s*(?:[-*•]|\d+\.)\s+", "", chunk).strip()
        if not chunk:
            continue
        pieces = _SENTENCE_END.split(chunk)
        merged: list[str] = []
        for piece in pieces:
            if merged and (_ABBREVIATIONS.search(merged[-1]) or len(merged[-1]) < 4):
                merged[-1] = f"{merged[-1]} {piece}"
            else:
                merged.append(piece)
        parts.extend(p.strip() for p in merged if p.strip())
    return parts


def is_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION.search(sentence))


def statements(text: str) -> str:
    """A paragraph's text without the sentences that are instructions rather than statements."""
    sentences = split_sentences(text)
    if not any(is_instruction(s) for s in sentences):
        return text
    return " ".join(s for s in sentences if not is_instruction(s))


def numbers_in(text: str) -> set[str]:
    """Numbers as canonical strings: '2,849' -> '2849', '4.6%' -> '4.6', 'eight' -> '8'."""
    found = {m.group(1).replace(",", "") for m in _NUMBER.finditer(text)}
    found |= {str(_NUMBER_WORDS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
    return {n[:-2] if n.endswith(".0") else n for n in found}


def content_words(text: str) -> set[str]:
    words = re.findall(r"[a-z][a-z'’-]+|\d+(?:\.\d+)?", text.lower())
    return {_stem(w) for w in words if w not in _STOP and len(w) > 2 or w.isdigit()}


def _stem(word: str) -> str:
    """A light stemmer: enough that 'services'/'service' or 'requires'/'required' meet."""
    word = word.replace("’", "'").removesuffix("'s").removesuffix("'")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith(("sses", "ches", "shes", "xes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in ("ing", "ed", "e"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[:-len(suffix)]
    return word


def best_quote(claim: str, paragraph_text: str, max_sentences: int = 2) -> tuple[str, float]:
    """The paragraph's sentence(s) that best support the claim, verbatim, and how well (0..1). A paragraph
    of nothing but instructions supports nothing: ('', 0.0)."""
    sentences = split_sentences(paragraph_text) or [paragraph_text]
    sentences = [s for s in sentences if not is_instruction(s)]
    if not sentences:
        return "", 0.0
    wanted = content_words(claim)
    wanted_numbers = numbers_in(claim)
    scored: list[tuple[float, int, str]] = []
    for i, sentence in enumerate(sentences):
        have = content_words(sentence)
        overlap = len(wanted & have) / max(1, len(wanted))
        numbers = len(wanted_numbers & numbers_in(sentence)) / max(1, len(wanted_numbers)) if wanted_numbers else 0
        scored.append((overlap + 0.5 * numbers, i, sentence))
    scored.sort(key=lambda s: (-s[0], s[1]))
    chosen = scored[:1]
    if max_sentences > 1 and len(scored) > 1:
        # A second sentence only when it carries claim words or numbers the best one lacks.
        best = content_words(scored[0][2]) | numbers_in(scored[0][2])
        missing = (wanted | wanted_numbers) - best
        extra = next((x for x in scored[1:] if (content_words(x[2]) | numbers_in(x[2])) & missing
                      and x[0] > 0.2), None)
        if extra is not None and len(missing & (content_words(extra[2]) | numbers_in(extra[2]))) >= 2:
            chosen = sorted([scored[0], extra], key=lambda s: s[1])
    quote = " ".join(s for _, _, s in chosen)
    # Quotes must be verbatim: fall back to the single best sentence when two are not adjacent in the text.
    if quote not in paragraph_text:
        quote = scored[0][2]
    support = len(wanted & content_words(quote)) / max(1, len(wanted))
    return quote, support


@dataclass(frozen=True)
class Checked:
    text: str                       # the answer with keys renumbered in order of first use
    claims: tuple[Claim, ...]
    citations: tuple[Citation, ...]


def check(answer: str, passages: Sequence[Passage], *, question: str = "", mark_unsupported: bool = True) -> Checked:
    """Resolve and verify the [n] keys of an answer written from `passages`. Line breaks are kept.

    A claim whose cited passage does not support it, while another given passage clearly does, is
    re-attributed to that passage (small models often cite the wrong key). Years the question itself
    names are context, not claims to check."""
    context_years = {y for y in re.findall(r"\b(?:19|20)\d\d\b", question)}
    by_key = {p.key: p for p in passages}
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    claims: list[Claim] = []
    out_lines: list[str] = []
    for line in answer.strip().split("\n"):
        prefix, line = _label(line)
        out_sentences: list[str] = []
        for sentence in split_sentences(line):
            keys = [int(k) for group in _KEY.findall(sentence) for k in re.split(r"\s*,\s*", group)]
            valid = [k for k in dict.fromkeys(keys) if k in by_key]
            bare = re.sub(r"\s+([.,;:])", r"\1", _KEY.sub("", sentence)).strip()
            if not bare or bare in ".,;:":
                continue
            if is_abstention(bare) and not valid:
                out_sentences.append(bare)
                continue
            if not valid:
                attributed = _attribute(bare, passages)
                valid = [attributed] if attributed else []
            verified, reason, quotes = _verify(bare, [by_key[k] for k in valid], context_years)
            if not verified:
                better = _attribute(bare, passages)
                if better is not None and better not in valid:
                    retry = _verify(bare, [by_key[better]], context_years)
                    if retry[0]:
                        valid, (verified, reason, quotes) = [better], retry
            new_keys: list[int] = []
            for key in valid:
                if key not in renumber:
                    renumber[key] = len(renumber) + 1
                    passage = by_key[key]
                    citations.append(Citation(renumber[key], passage.hit.paragraph, passage.hit.report,
                                              quotes.get(key) or best_quote(bare, passage.text)[0]))
                new_keys.append(renumber[key])
            claims.append(Claim(bare, tuple(new_keys), verified, reason))
            rendered = _with_keys(bare, new_keys)
            if not verified and mark_unsupported:
                rendered += " [unverified]"
            out_sentences.append(rendered)
        if out_sentences:
            out_lines.append(prefix + " ".join(out_sentences))
    return Checked("\n".join(out_lines), tuple(claims), tuple(citations))


_ABSTENTION = re.compile(r"(?:reports? in the corpus do(?:es)? not say|the report does not (?:say|state)"
                         r"|no report on|does not state a grade)", re.I)


def is_abstention(sentence: str) -> bool:
    return bool(_ABSTENTION.search(sentence))


def _label(line: str) -> tuple[str, str]:
    """'Wandsworth: text' in a comparison: the label is kept out of the claim."""
    match = re.match(r"^\s*(?:\*\*)?([A-Z][\w ,'&()-]{1,60}?)(?:\*\*)?:\s+(?=\S)", line)
    if match and len(match.group(1).split()) <= 6:
        return f"{match.group(1)}: ", line[match.end():]
    return "", line


def _with_keys(sentence: str, keys: Sequence[int]) -> str:
    if not keys:
        return sentence
    marks = "".join(f"[{k}]" for k in keys)
    match = re.search(r"([.!?])[\"'”’)]?$", sentence)
    if match:
        return f"{sentence[:match.start()]} {marks}{sentence[match.start():]}"
    return f"{sentence} {marks}"


def _attribute(sentence: str, passages: Sequence[Passage]) -> int | None:
    """A sentence the engine left uncited gets the passage that clearly supports it, if one does."""
    best: tuple[float, int] | None = None
    for passage in passages:
        _, support = best_quote(sentence, passage.text)
        if best is None or support > best[0]:
            best = (support, passage.key)
    return best[1] if best and best[0] >= 0.6 else None


def _verify(sentence: str, cited: Sequence[Passage], context_years: set[str] = frozenset()) -> tuple[bool, str, dict[int, str]]:
    if not cited:
        return False, "no passage supports it", {}
    quotes: dict[int, str] = {}
    support = 0.0
    for passage in cited:
        quote, s = best_quote(sentence, passage.text)
        quotes[passage.key] = quote
        wanted = content_words(sentence)
        with_headings = content_words(quote + " " + " ".join(passage.hit.paragraph.headings))
        support = max(support, s, len(wanted & with_headings) / max(1, len(wanted)))
    # A paragraph's headings are part of what it says ('Leadership and management | Grade 1 (outstanding)').
    stated = [statements(p.text) + " " + " ".join(p.hit.paragraph.headings) for p in cited]
    cited_numbers = set().union(*(numbers_in(text) for text in stated))
    own_years = {p.hit.report.date[:4] for p in cited if p.hit.report.date}
    missing = sorted(numbers_in(sentence) - cited_numbers - context_years - own_years, key=len)
    cited_text = " ".join(stated).lower()
    missing += [m for m in _MONTHS.findall(sentence) if m.lower() not in cited_text]
    cited_grades = {_grade(g) for g in _GRADES.findall(cited_text)}
    missing += [g for g in dict.fromkeys(_grade(g) for g in _GRADES.findall(sentence)) if g not in cited_grades]
    if missing:
        return False, f"{', '.join(missing)} not in the cited paragraph", quotes
    if support < SUPPORT_THRESHOLD and len(content_words(sentence)) >= 4:
        return False, "the cited paragraph does not support it", quotes
    return True, "", quotes


def _grade(word: str) -> str:
    return "requires improvement" if "improvement" in word.lower() else word.lower()

