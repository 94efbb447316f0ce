"""Words: the one tokenizer, stemmer, stop-word list, number words and sentence splitter of the package.

Search (BM25 tokens), question parsing (glossary terms, topics), the extractive engine (sentence scores) and
citation checks (claim support) all compare texts through these functions, so two wordings that match in
one place match in the others.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

# English function words, and the question words that carry no topic ('what', 'how many').
STOP_WORDS = frozenset("""a an the of in on at to for from by with and or nor but if as is are was were be been being
do does did has have had what which who whom whose when where why how many much its it this that these those there
their they them his her our your you we i any all each both some such than then so into about over under
between among across per via s can could would should will might must also very because whether""".split())
# The ranking function's own stop list (BM25 drops only these): the short standard English list, so that a
# question's other small words still count. Comparing two wordings drops all of STOP_WORDS.
RANKING_STOP_WORDS = frozenset("""a an and are as at be but by for if in into is it no not of on or such that the their
then there these they this to was will with""".split())
# Words of reporting that every report and question is full of: no evidence of a topic.
REPORTING_WORDS = frozenset("report reports said says according".split())

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")

_WORD = re.compile(r"[a-z][a-z'’-]+|\d+(?:\.\d+)?")
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_]+")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(%|per ?cent))?")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]?\s+(?=[A-Z0-9\"'“‘(\[])")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|no|para|paras|approx|St|Dr|Mr|Mrs|Ms|cf)\.$", re.I)


@lru_cache(maxsize=200_000)       # a corpus has tens of thousands of distinct words, each stemmed once
def stem(word: str) -> str:
    """A light suffix stripper (plural, -ing, -ed, -ly, final e): 'improves', 'improved', 'improving' ->
    'improv'. Not linguistically exact: it only has to give a word's forms one key, the same everywhere."""
    word = word.replace("’", "'").removesuffix("'s").removesuffix("'")
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ingly", "edly", "ing", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "ls":   # planning -> plann -> plan
                word = word[:-1]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def singular(word: str) -> str:
    """A word's singular as written ('assessments' -> 'assessment', 'children' -> 'child'): for building a
    pattern that finds the word again, where a stem would not be a word."""
    word = word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
    return "child" if word == "children" else word


def content_words(text: str) -> set[str]:
    """The stems of a text's words that carry meaning (no stop or reporting words, no one- or two-letter
    words), numbers kept: what two wordings must share to say the same thing."""
    return {stem(w) for w in _WORD.findall(text.lower())
            if (w not in STOP_WORDS and w not in REPORTING_WORDS and len(w) > 2) or w.isdigit()}


def tokenize(text: str) -> list[str]:
    """BM25 tokens: lowercase words (no ranking stop words, no 1-letter words), stemmed; numbers kept.

    A number keeps its decimals and loses thousands commas ("1,234" -> "1234"); a percentage gives both
    "4.6" and "4.6%", so "4.6%" in a query matches the text exactly and "4.6" matches either form.
    """
    tokens: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        if token[0].isdigit():
            number = re.sub(r",(?=\d{3}\b)", "", token.rstrip("%"))
            tokens.append(number)
            if token.endswith("%"):
                tokens.append(number + "%")
        else:
            word = _word_token(token)
            if word:
                tokens.append(word)
    return tokens


@lru_cache(maxsize=300_000)         # an index tokenizes millions of words, of a few tens of thousands kinds
def _word_token(word: str) -> str:
    return "" if len(word) <= 1 or word in RANKING_STOP_WORDS else stem(word)


def numbers_in(text: str) -> set[str]:
    """Numbers as canonical strings: '2,849' -> '2849', '4.6%' -> '4.6', 'eight' -> '8'."""
    found = {m.group(1).replace(",", "") for m in _NUMBER.finditer(text)}
    found |= {str(NUMBER_WORDS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS}
    return {n[:-2] if n.endswith(".0") else n for n in found}


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, each line on its own; list marks dropped; 'e.g.' and 'para.' do not end one."""
    parts: list[str] = []
    for chunk in re.split(r"\n+", text.strip()):
        chunk = re.sub(r"^\s*(?:[-*•]|\d+\.)\s+", "", chunk).strip()
        if not chunk:
            continue
        merged: list[str] = []
        for piece in _SENTENCE_END.split(chunk):
            if merged and (_ABBREVIATIONS.search(merged[-1]) or len(merged[-1]) < 4):
                merged[-1] = f"{merged[-1]} {piece}"
            else:
                merged.append(piece)
        parts.extend(p.strip() for p in merged if p.strip())
    return parts


def join_names(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    names = list(names)
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
