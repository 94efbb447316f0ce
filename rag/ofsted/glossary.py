"""The domain's other names for things (data/glossary.toml): abbreviations and their long forms ('LAC',
'looked after children'), and synonyms. A question, a sentence or a paragraph can be expanded with the
names it does not use, so search and sentence scoring meet whichever wording a report chose."""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rag.text.words import content_words

_DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class _Term:
    text: str
    pattern: re.Pattern[str]
    words: frozenset[str]
    # A piece every match contains, lowercased: a text without it needs no regex search (a text mentions
    # few of the glossary's terms, and searching for each one costs).
    needle: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "needle", max(re.split(r"[\s\-]+", self.text.replace("’", "'").lower()), key=len))

    def found_in(self, text: str, lowered: str) -> bool:
        return self.needle in lowered and bool(self.pattern.search(text))


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", phrase.replace("’", "'"))]
    return re.compile(r"\b" + r"[\s\-]+".join(words) + r"(?:s|es)?\b", re.I)


def _abbreviation_pattern(short: str, exact_case: bool) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(w) for w in short.split())
    flags = 0 if exact_case or len(short) < 3 or any(c.islower() for c in short) else re.I
    return re.compile(rf"(?<![\w&]){body}(?:s|'s)?(?![\w&])", flags)


@lru_cache(maxsize=1)
def glossary_version() -> str:
    """A short digest of the glossary: word counts made with another glossary count other words."""
    return hashlib.sha256((_DATA / "glossary.toml").read_bytes()).hexdigest()[:12]


@lru_cache(maxsize=1)
def _glossary() -> tuple[tuple[_Term, ...], ...]:
    data = tomllib.loads((_DATA / "glossary.toml").read_text(encoding="utf-8"))
    groups = []
    for entry in data.get("abbreviation", ()):
        exact = bool(entry.get("exact_case"))
        groups.append(tuple(_Term(s, _abbreviation_pattern(s, exact), frozenset(content_words(s)))
                            for s in entry["short"])
                      + tuple(_Term(p, _phrase_pattern(p), frozenset(content_words(p))) for p in entry["long"]))
    for entry in data.get("synonym", ()):
        groups.append(tuple(_Term(t, _phrase_pattern(t), frozenset(content_words(t))) for t in entry["terms"]))
    return tuple(groups)


def expand(text: str) -> tuple[str, ...]:
    """Terms to add to a text so abbreviations and their long forms both appear: 'LAC' adds
    'looked after children'..., 'looked after children' adds 'LAC', 'CLA'... A term whose words the
    text already has adds nothing."""
    text = text.replace("’", "'")
    lowered = text.lower()
    present = content_words(text)
    added: list[str] = []
    for group in _glossary():
        if not any(t.found_in(text, lowered) for t in group):
            continue
        for term in group:
            if term.found_in(text, lowered) or (term.words and term.words <= present):
                continue
            added.append(term.text)
            present |= term.words
    return tuple(added)


def expanded_words(text: str) -> set[str]:
    """A text's content words plus those of the glossary's other names for what it mentions
    (PLO -> public law outline): the words a sentence or paragraph is about, whatever it calls them."""
    words = content_words(text)
    for expansion in expand(text):
        words |= content_words(expansion)
    return words
