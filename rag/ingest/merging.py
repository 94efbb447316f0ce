"""Blocks joined before they become paragraphs: fragments too small to cite on their own, and an inspection's
front matter (its dates and lead inspector) with the grade table it introduces."""
from __future__ import annotations

import re
from typing import Protocol

_TINY = 40
_FRONT_MATTER = re.compile(r"^(?:Inspection dates?|Lead inspector|Reports? published)\s*:", re.I)


class Merged(Protocol):
    """What merging needs of a block (rag.ingest.chunking.Block)."""
    kind: str
    text: str
    lines: list
    number: str | None
    grade_statement: bool


def merge_tiny(blocks: list[Merged]) -> list[Merged]:
    """Fragments too small to cite on their own ('Lead inspector: ...') join the paragraph after them, or the
    one before when they close it ('(Recommendation.)')."""
    out: list[Merged] = []
    carry: Merged | None = None
    for block in blocks:
        if (carry is None and out and out[-1].kind in ("paragraph", "bullet") and _is_tiny(block)
                and (block.text[:1] == "(" or block.text[:1].islower())):
            out[-1].lines.extend(block.lines)
            out[-1].text = f"{out[-1].text} {block.text}"
            continue
        if carry is not None and block.kind == "paragraph" and not block.grade_statement:
            block.lines[:0] = carry.lines
            block.text = f"{carry.text} {block.text}"
            block.number = block.number or carry.number
            carry = None
        elif carry is not None:
            out.append(carry)
            carry = None
        if _is_tiny(block):
            carry = block
            continue
        out.append(block)
    if carry is not None:
        out.append(carry)
    return out


def _is_tiny(block: Merged) -> bool:
    return (block.kind == "paragraph" and len(block.text) < _TINY and not block.grade_statement
            and not block.number)


def attach_front_matter(blocks: list[Merged]) -> list[Merged]:
    """'Inspection dates: ...' and 'Lead inspector: ...' right before a grade table become its first lines:
    the paragraph that states the grades then also says which inspection made them."""
    out: list[Merged] = []
    for block in blocks:
        if block.kind == "table":
            start = len(out)
            while start and out[start - 1].kind == "paragraph" and _FRONT_MATTER.match(out[start - 1].text):
                start -= 1
            if start < len(out):
                front = out[start:]
                del out[start:]
                block.lines[:0] = [line for f in front for line in f.lines]
                block.text = "\n".join([*(f.text for f in front), block.text])
        out.append(block)
    return out
