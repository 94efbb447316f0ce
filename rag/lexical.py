"""What BM25 sees: the text indexed for a paragraph, and the tokenizer shared by indexing and querying."""
from __future__ import annotations

import re
from collections.abc import Callable

from bm25s.stopwords import STOPWORDS_EN

from rag.records import Paragraph, Report

TOKENIZER = "words-numbers-lightstem-v1"   # recorded in the manifest: BM25 must be rebuilt if it changes


def lexical_text(report: Report, paragraph: Paragraph) -> str:
    """What BM25 indexes: headings, lead-in and text (searches are filtered by authority, not matched on it)."""
    return "\n".join(x for x in (*paragraph.headings, paragraph.lead_in, paragraph.text) if x)


_TOKEN = re.compile(r"\d+(?:[.,]\d+)*%?|[^\W\d_]+")
_STOPWORDS = frozenset(STOPWORDS_EN)


def light_stem(word: str) -> str:
    """A tiny suffix stripper (plural, -ing, -ed, -ly, final e): 'improves', 'improved', 'improving' -> 'improv'.

    Not linguistically exact; it only has to map a word's forms to one key, the same in queries and text.
    """
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


def tokenize(text: str, stem: Callable[[str], str] | None = light_stem) -> list[str]:
    """BM25 tokens: lowercase words (no English stopwords, no 1-letter words), stemmed; numbers kept.

    A number keeps its decimals and loses thousands commas ("1,234" -> "1234"); a percentage gives both
    "4.6" and "4.6%", so "4.6%" in a query matches the text exactly and "4.6" matches either form.
    """
    tokens: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group()
        if token[0].isdigit():
            number = re.sub(r",(?=\d{3}\b)", "", token.rstrip("%"))
            tokens.append(number)
            if token.endswith("%"):
                tokens.append(number + "%")
        elif len(token) > 1 and token not in _STOPWORDS:
            tokens.append(stem(token) if stem else token)
    return tokens
