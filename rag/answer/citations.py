"""Citations you can trust: short keys in the prompt, resolved and checked in code after the answer.

Every sentence of an answer is a claim. `check` reads its [n] keys (keys never given are dropped), has
rag.answer.verify decide which passage supports it and whether it does, renumbers the keys in order of
first use, and renders the answer with a claim that failed marked [unverified], never silently passed.
Each citation quotes the supporting sentence of its paragraph verbatim.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rag.answer.meaning import words
from rag.answer.verify import Passage, Verdict, best_quote, resolve
from rag.records import NOT_IN_REPORTS, Citation, Claim
from rag.text.words import split_sentences

_KEY = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")
_ABSTENTION = re.compile(r"(?:reports? in the corpus do(?:es)? not say|the report does not (?:say|state)"
                         r"|no report on|does not state a grade|gives no (?:[\w-]+ ){0,3}grade)", re.I)


def is_abstention(sentence: str) -> bool:
    return bool(_ABSTENTION.search(sentence))




@dataclass(frozen=True)
class Checked:
    text: str                       # the answer with keys renumbered in order of first use
    claims: tuple[Claim, ...]
    citations: tuple[Citation, ...]


def check(answer: str, passages: Sequence[Passage], *, question: str = "", unsupported: str = "mark",
          topic: bool = True) -> Checked:
    """Resolve and verify the [n] keys of an answer written from `passages`. Line breaks are kept. Years
    the question itself names are context, not claims to check. `unsupported`: "mark" a claim its
    paragraphs do not bear out with [unverified], or "drop" it from the text (it stays in `claims`). `topic`:
    each claim must be about what the question asks (lines built from the judgements table need not be)."""
    context_years = frozenset(re.findall(r"\b(?:19|20)\d\d\b", question))
    numbering = _Numbering({p.key: p for p in passages})
    claims: list[Claim] = []
    lines: dict[int, tuple[str, list[str]]] = {}
    said: set[str] = set()
    for line, prefix, sentence, keys in _sentences(answer):
        # A small model can loop, writing the same sentence again and again: each is said once (under its
        # line's label: 'Kent (2022): Overall effectiveness — good' and 'Essex (2022): ...' are two).
        plain = " ".join(words(_KEY.sub("", prefix + sentence)))
        if plain in said:
            continue
        said.add(plain)
        if is_abstention(sentence) and not any(k in numbering.passages for k in keys):
            rendered = sentence
        elif _KEY.sub("", sentence).strip(" .").lower() == NOT_IN_REPORTS.strip(" .").lower():
            rendered = NOT_IN_REPORTS       # the refusal itself cites nothing, whatever key a model put on it
        else:
            valid, verdict = resolve(sentence, keys, _of_label(prefix, passages), context_years,
                                     question if topic else "")
            if not verdict.verified and unsupported == "drop":
                claims.append(Claim(sentence, (), False, verdict.reason))
                continue
            new_keys = numbering.cite(valid, sentence, verdict)
            claims.append(Claim(sentence, tuple(new_keys), verdict.verified, verdict.reason))
            rendered = with_keys(sentence, new_keys)
            if not verdict.verified:
                rendered += " [unverified]"
        lines.setdefault(line, (prefix, []))[1].append(rendered)
    text = "\n".join(prefix + " ".join(sentences) for prefix, sentences in lines.values())
    return Checked(text, tuple(claims), tuple(numbering.citations))


def _sentences(answer: str) -> Iterator[tuple[int, str, str, list[int]]]:
    """(line number, the line's label, the sentence without its keys, its keys in order) per sentence."""
    for number, line in enumerate(answer.strip().split("\n")):
        prefix, line = _label(line)
        for sentence in split_sentences(line):
            keys = [int(k) for group in _KEY.findall(sentence) for k in re.split(r"\s*,\s*", group)]
            bare = re.sub(r"\s+([.,;:])", r"\1", _KEY.sub("", sentence)).strip()
            if bare and bare not in ".,;:":
                yield number, prefix, bare, list(dict.fromkeys(keys))


class _Numbering:
    """Passage keys -> the keys the reader sees, 1, 2, ... in order of first use, with one citation each."""

    def __init__(self, passages: dict[int, Passage]) -> None:
        self.passages = passages
        self.new: dict[int, int] = {}
        self.citations: list[Citation] = []

    def cite(self, keys: Sequence[int], sentence: str, verdict: Verdict) -> list[int]:
        for key in keys:
            if key not in self.new:
                self.new[key] = len(self.new) + 1
                passage = self.passages[key]
                quote = verdict.quotes.get(key) or best_quote(sentence, passage.text)[0]
                self.citations.append(Citation(self.new[key], passage.hit.paragraph, passage.hit.report, quote))
        return [self.new[k] for k in keys]


def merge(parts: Sequence[tuple[str, Checked]]) -> Checked:
    """Several checked answers (one per authority in a comparison) as one, each line led by its label
    ("Wandsworth: "), keys renumbered across them in order; a paragraph cited twice keeps one key."""
    by_paragraph: dict[str, int] = {}
    citations: list[Citation] = []
    claims: list[Claim] = []
    lines: list[str] = []
    for label, checked in parts:
        mapping: dict[int, int] = {}
        for c in checked.citations:
            if c.paragraph.id not in by_paragraph:
                by_paragraph[c.paragraph.id] = len(by_paragraph) + 1
                citations.append(Citation(by_paragraph[c.paragraph.id], c.paragraph, c.report, c.quote))
            mapping[c.n] = by_paragraph[c.paragraph.id]
        text = _KEY.sub(lambda m: "".join(f"[{mapping.get(int(k), int(k))}]"
                                          for k in re.split(r"\s*,\s*", m.group(1))), checked.text)
        claims += [Claim(c.sentence, tuple(mapping.get(k, k) for k in c.keys), c.verified, c.reason)
                   for c in checked.claims]
        lines.append(f"{label}{text}")
    return Checked("\n".join(lines), tuple(claims), tuple(citations))


def _of_label(prefix: str, passages: Sequence[Passage]) -> Sequence[Passage]:
    """The passages a line labelled with an authority ('Kent (2022): ...') may cite: that authority's.
    A claim under one authority's label is not borne out by another's report, and a national answer of
    a hundred lines is not checked against every authority's passages (that took minutes)."""
    label = prefix.lower()
    # Whole words: a 'Leicestershire' line must not take Leicester's passages as its own.
    own = [p for p in passages if p.hit.report.authority
           and re.search(rf"(?<!\w){re.escape(p.hit.report.authority.lower())}(?!\w)", label)]
    return own or passages


def _label(line: str) -> tuple[str, str]:
    """'Wandsworth: text' in a comparison: the label is kept out of the claim."""
    match = re.match(r"^\s*(?:\*\*)?([A-Z][\w ,'&()-]{1,60}?)(?:\*\*)?:\s+(?=\S)", line)
    if match and len(match.group(1).split()) <= 6:
        return f"{match.group(1)}: ", line[match.end():]
    return "", line


def with_keys(sentence: str, keys: Sequence[int]) -> str:
    if not keys:
        return sentence
    marks = "".join(f"[{k}]" for k in keys)
    match = re.search(r"([.!?])[\"'”’)]?$", sentence)
    if match:
        return f"{sentence[:match.start()]} {marks}{sentence[match.start():]}"
    return f"{sentence} {marks}"
