"""Which English local authorities a text names: the gazetteer of every council with children's services
(data/authorities.toml) and the matching of its names, aliases and short forms in text.

Matching is done on word tokens, longest name first, so "Royal Borough of Windsor and Maidenhead" is one
mention of Windsor and Maidenhead, "&" and "and" are the same word and a name may run across a line break.
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


def royal_authorities() -> frozenset[str]:
    """The royal boroughs ("the royal borough" in a question means the corpus's one, if it has one)."""
    return _gazetteer().royal


def authority_kind(authority: str) -> str | None:
    """london | metropolitan | unitary | county, or None for a name not in the list."""
    return _gazetteer().kinds.get(authority)


@lru_cache(maxsize=4096)      # called for every authority of the corpus on every question
def canonical_authority(name: str) -> str | None:
    """'London Borough of Hammersmith & Fulham' -> 'Hammersmith and Fulham'; None if no authority."""
    exact = _lowercase_names().get(" ".join(name.split()).lower())
    if exact:
        return exact            # a bare name ('Reading'), which in running text might be a word
    mentions = find_mentions(name, in_question=True)
    return mentions[0].authority if mentions else None


@lru_cache(maxsize=1)
def _lowercase_names() -> dict[str, str]:
    return {a.lower(): a for a in _gazetteer().kinds}


def _sentence_start(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \t\"'‘“(")
    return not before or before[-1] in ".!?:\n"


def _valid(name: _Name, words: Sequence[re.Match[str]], text: str, in_question: bool) -> bool:
    written = [w.group(0) for w in words]
    if name.short_form and not in_question:
        return False
    if name.exact_case and [_case_kept(w) for w in written] != [_case_kept(t) for t in name.tokens]:
        return False
    if name.capitalised and not written[0][:1].isupper():
        return False
    if name.capitalised and _sentence_start(text, words[0].start()) \
            and not _used_as_name(text, words[-1].end(), in_question):
        return False
    return True


def _used_as_name(text: str, end: int, in_question: bool) -> bool:
    """A sentence-initial 'Bury' or 'Reading' is the place when possessive ('Bury's report') or, in a
    question, set off by punctuation ('Slough: what grade ...', 'Reading, 2019?')."""
    after = text[end:end + 2]
    return after in ("'s", "’s") or (in_question and (not after.strip() or after[:1] in ",:;?)"))


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
