"""Blocks joined before they become paragraphs: fragments too small to cite on their own, and an inspection's
judgement box (its dates and lead inspector, its overall judgement, the grade table or explanation under it)."""
from __future__ import annotations

import re
from typing import Protocol

from rag.ofsted.grades import find_statements

_TINY = 40
FRONT_MATTER = re.compile(r"^(?:Inspection dates?|Lead inspector|Reports? published)\s*:", re.I)
# A title broken around its conjunction ('Inspection of services ...' / 'and' / 'Review of the LSCB').
_LONE_JOINER = re.compile(r"^(?:and|or|&)$", re.I)


class Merged(Protocol):
    """What merging needs of a block (rag.ingest.chunking.Block)."""
    kind: str
    text: str
    lines: list
    number: str | None
    grade_statement: bool
    statement: str


def merge_tiny(blocks: list[Merged]) -> list[Merged]:
    """Fragments too small to cite on their own ('Lead inspector: ...') join the paragraph after them, or the
    one before when they close it ('(Recommendation.)'). A lone 'and' between two title lines is dropped."""
    out: list[Merged] = []
    carry: Merged | None = None
    for block in blocks:
        if block.kind == "paragraph" and _LONE_JOINER.match(block.text.strip()):
            continue
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


def form_judgement_boxes(blocks: list[Merged]) -> list[Merged]:
    """'Inspection dates: ...', 'Report published: ...' and 'Lead inspector: ...' right before a grade table
    or a judgement standing alone that heads the report become its first lines, and that judgement
    ('Children's services in X are inadequate', 'The overall judgement is requires improvement') joins the
    table or the paragraph right under it. The paragraph cited for a grade then says which inspection made
    it, and why or with which other grades."""
    out: list[Merged] = []
    waiting: Merged | None = None      # an overall judgement with nothing under it yet
    for block in blocks:
        if waiting is not None and out and out[-1] is waiting and _can_follow_judgement(block):
            out.pop()
            _prepend(block, [waiting])
            block.grade_statement = True
            block.statement = waiting.statement
        waiting = None
        after_front_matter = bool(out) and _is_front_matter(out[-1])
        if block.kind == "table" or _judgement_alone(block, after_front_matter):
            if block.kind != "table":
                block.statement = block.text
                waiting = block
            start = len(out)
            while start and _is_front_matter(out[start - 1]):
                start -= 1
            if start < len(out):
                _prepend(block, out[start:])
                del out[start:]
        out.append(block)
    return out


def _is_front_matter(block: Merged) -> bool:
    return block.kind == "paragraph" and not block.statement and bool(FRONT_MATTER.match(block.text))


def _judgement_alone(block: Merged, after_front_matter: bool) -> bool:
    """A judgement standing alone that heads a report: its overall judgement, or the one judgement right
    under the inspection's dates (a review of an LSCB alone: 'The Local Safeguarding Children Board requires
    improvement')."""
    if block.kind not in ("paragraph", "heading") or not block.grade_statement or block.statement:
        return False
    if len(block.text.split()) > 25 or block.number:
        return False
    areas = {s.area for s in find_statements(block.text)}
    return areas == {"overall_effectiveness"} or after_front_matter and len(areas) == 1


def _can_follow_judgement(block: Merged) -> bool:
    if block.kind == "table":
        return True
    return block.kind == "paragraph" and not block.number and not block.grade_statement and not _is_front_matter(block)


def _prepend(block: Merged, before: list[Merged]) -> None:
    block.lines[:0] = [line for b in before for line in b.lines]
    block.text = "\n".join([*(b.text for b in before), block.text])
