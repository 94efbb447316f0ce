"""Text matching as ../shared/eval/score.py does it, so a number from rag.cli.evaluate means the same as one
from score.py: normalisation that tolerates extraction noise (markup, typography, hyphenation), whether
a passage covers a gold evidence quote, and whether an answer holds a gold keyword."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

MIN_GRAM_COVERAGE = 0.6            # share of a quote's word n-grams a passage must hold to "cover" it

_TYPOGRAPHIC_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SHORT_TAG = re.compile(r"<[^>]{1,20}>")               # <sup>, </sub> and the like
_MARKDOWN_MARK = re.compile(r"[*#_`|\\]")
_HYPHENATED_LINE_BREAK = re.compile(r"(\w)-\s*\n\s*(\w)")
_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9%]+")
_THOUSANDS_COMMA = re.compile(r"(\d),(\d{3})")
_PER_CENT = re.compile(r"\s*(per ?cent)\b")
_NUMBER_VALUES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
# Whole words only, each replaced on its own: "twenty-one" becomes "20-1", never "21".
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_VALUES) + r")\b")


def normalise(text: str | None) -> str:
    """Lower-cased text with typography, short tags, markdown marks and line-break hyphens undone."""
    text = unicodedata.normalize("NFKC", text or "").translate(_TYPOGRAPHIC_QUOTES)
    text = _DASHES.sub("-", text)
    text = _SHORT_TAG.sub(" ", text)
    text = _MARKDOWN_MARK.sub(" ", text)
    text = _HYPHENATED_LINE_BREAK.sub(r"\1\2", text)   # before white space is collapsed: needs the \n
    return _WHITESPACE.sub(" ", text).strip().lower()


def words(text: str | None) -> list[str]:
    return _WORD.findall(normalise(text))


def _ngrams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


class NormalisedPassage:
    """A hit or citation text, normalised once however many quotes are checked against it."""

    def __init__(self, text: str | None) -> None:
        self.normalised = normalise(text)
        self._words = _WORD.findall(self.normalised)
        self._grams: dict[int, set[tuple[str, ...]]] = {}

    def grams(self, n: int) -> set[tuple[str, ...]]:
        if n not in self._grams:
            self._grams[n] = _ngrams(self._words, n)
        return self._grams[n]

    def covers(self, quote: str) -> bool:
        normalised_quote = normalise(quote)
        if normalised_quote in self.normalised:
            return True
        quote_words = _WORD.findall(normalised_quote)
        n = 3 if len(quote_words) >= 6 else 2      # short quotes have too few trigrams to be fair
        wanted = _ngrams(quote_words, n)
        if not wanted:
            return False
        return len(wanted & self.grams(n)) / len(wanted) >= MIN_GRAM_COVERAGE


def covers(passage: str | None, quote: str) -> bool:
    """True when the passage holds the gold quote, exactly or as >= 60% of its word n-grams."""
    return NormalisedPassage(passage).covers(quote)


def normalise_answer(text: str | None) -> str:
    """normalise() plus number spellings: '1,234' -> '1234', 'per cent' -> '%', 'five' -> '5'."""
    text = _THOUSANDS_COMMA.sub(r"\1\2", normalise(text))
    text = _PER_CENT.sub("%", text)
    return _NUMBER_WORD.sub(lambda m: str(_NUMBER_VALUES[m.group(1)]), text)


def keyword_hit(answer: str | None, keyword: str) -> bool:
    return normalise_answer(keyword) in normalise_answer(answer)
