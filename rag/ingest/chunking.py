"""Turn classified lines into citable paragraphs: blocks, headings, continuations, paragraph numbers.

A paragraph is the unit of citation, so the rules here aim at the paragraphs a reader of the printed
report would point to: hard-wrapped lines joined, paragraphs cut by a page break rejoined, each bullet
its own paragraph with its lead-in kept as context, sub-bullets kept with their bullet, tables kept
whole, the report's own paragraph numbers kept. Pages come from rag.ingest.pages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rag.ingest.cleaning import BLANK, BREAK, BULLET, DROPPED, HEADING, SUBBULLET, TABLE, TEXT, Line
from rag.ingest.pages import assign_pages
from rag.ingest.merging import FRONT_MATTER, form_judgement_boxes, merge_tiny
from rag.ofsted.grades import GRADE_IN_HEADING, is_grade_statement, mentions_area
from rag.ofsted.publication import is_boilerplate

# Bump when chunking or cleaning changes what paragraphs come out: the index is rebuilt.
CHUNKING_VERSION = "chunk-14"

_TERMINAL = re.compile(r"(?:[.!?:;…)\]]|[.!?][\"'”’])\s*$")
_GRADE_LINE = re.compile(r"^Grade \d \((?:outstanding|good|adequate|inadequate)\)$", re.I)
_TRAILING_JOINER = re.compile(r"\b(?:of|and|or|the|for|to|in|with|by|on|a|an)$", re.I)
# Generic section titles of Ofsted reports (2009-2018 frameworks): top level of the heading path.
_TOP_LEVEL = re.compile(
    r"^(?:section \d\b.*|(?:the )?local authority|executive summary|recommendations"
    r"|summary for children and young people|information about this (?:inspection|local authority area)"
    r"|inspection judge?ments? about the (?:local authority|lscb)|the local safeguarding children board.*"
    r"|the effectiveness of the local safeguarding children board.*|what does the .* need to improve\??"
    r"|the local authority.s strengths|progress since the last inspection|what the inspection judge?ments mean.*"
    r"|record of main findings:?|about this inspection|the inspection judgements and what they mean"
    r"|service information|safeguarding services|services for looked after children"
    r"|the experiences and progress of .*|the impact of leaders on social work practice.*|what needs to improve\??"
    r"|leadership,? management and governance\b.*\b(?:requires?|inadequate|good|outstanding|adequate)\b.*)$", re.I)
# A short unpunctuated line that introduces a list ('... is not yet good because') is its lead-in, not a heading.
_LEAD_IN_END = re.compile(r"\b(?:because|that|which|following|include|including|includes|are|is|were|by|to|of|and"
                          r"|as follows|such as|where|when|with|for)$", re.I)
_WRAP_MIN, _WRAP_MAX = 55, 110


@dataclass
class Block:
    kind: str                         # paragraph | bullet | table | heading
    lines: list[Line] = field(default_factory=list)
    text: str = ""
    number: str | None = None
    page: int | None = None
    after_break: bool = False         # a page break (not just a blank line) came before it
    grade_statement: bool = False     # states a graded judgement: citable and also a section heading
    statement: str = ""               # that judgement's words, when the block holds more (a judgement box)

    @property
    def raw(self) -> str:
        return "\n".join(line.raw for line in self.lines)


@dataclass(frozen=True)
class Chunk:
    """A paragraph before it gets its report id: what chunking hands to ingestion."""
    text: str
    original: str
    headings: tuple[str, ...]
    number: str | None
    page: int | None
    kind: str
    lead_in: str = ""


def is_hard_wrapped(lines: list[Line]) -> bool:
    lengths = [len(line.raw.rstrip()) for line in lines if line.kind in (TEXT, BULLET) and len(line.raw) > 40]
    if len(lengths) < 20:
        return False
    in_band = sum(1 for n in lengths if _WRAP_MIN <= n <= _WRAP_MAX)
    return in_band / len(lengths) > 0.8 and max(lengths) < 140


def _wrap_width(lines: list[Line]) -> int:
    lengths = sorted(len(line.raw.rstrip()) for line in lines if line.kind in (TEXT, BULLET))
    return lengths[int(len(lengths) * 0.9)] if lengths else 80


def _ended(line: Line, wrap_width: int) -> bool:
    """In hard-wrapped text a paragraph ends on a short line that ends a sentence."""
    return bool(_TERMINAL.search(line.text)) and len(line.raw.rstrip()) < wrap_width * 0.75


def build_blocks(lines: list[Line]) -> list[Block]:
    wrapped = is_hard_wrapped(lines)
    wrap_width = _wrap_width(lines) if wrapped else 0
    blocks: list[Block] = []
    current: Block | None = None
    pending_break = False

    def close() -> None:
        nonlocal current
        if current is not None:
            blocks.append(current)
            current = None

    for index, line in enumerate(lines):
        if line.kind in (BLANK, BREAK):
            pending_break |= line.kind == BREAK
            close()
            continue
        if line.kind == TEXT and _is_table_subheader(line, lines, index):
            line = replace(line, kind=TABLE)
        if line.kind == SUBBULLET and current is None and blocks and blocks[-1].kind in ("paragraph", "bullet"):
            current = blocks.pop()            # sub-items separated by blank lines still belong to their item
        if line.kind == SUBBULLET and current is not None and current.kind in ("paragraph", "bullet"):
            current.lines.append(line)
            continue
        if line.kind == TABLE and current is not None and current.kind == TABLE:
            current.lines.append(line)
            continue
        continues = (line.kind == TEXT and line.number is None and current is not None
                     and current.kind in ("paragraph", "bullet")
                     and (line.continues or wrapped and not _ended(current.lines[-1], wrap_width)))
        if continues:
            current.lines.append(line)
            continue
        close()
        kind = {HEADING: "heading", TABLE: "table", BULLET: "bullet", SUBBULLET: "bullet"}.get(line.kind, "paragraph")
        current = Block(kind, [line], number=line.number, page=line.page, after_break=pending_break)
        pending_break = False
    close()
    for block in blocks:
        block.text = _join(block)
    return blocks


def _is_table_subheader(line: Line, lines: list[Line], index: int) -> bool:
    """A one-cell row inside a tab table ('Safeguarding services<TAB>') belongs to the table."""
    if "\t" not in line.raw or len(line.text) > 90 or line.text.endswith(".") or line.number:
        return False
    following = next((n for n in lines[index + 1:index + 3] if n.kind not in (BLANK,)), None)
    return following is not None and following.kind == TABLE


def _join(block: Block) -> str:
    if block.kind == "table":
        return "\n".join(line.text for line in block.lines)
    parts: list[str] = []
    for line in block.lines:
        if line.kind == SUBBULLET:
            parts.append("\n- " + line.text)
        elif parts and parts[-1].endswith("-") and line.text[:1].islower():
            parts[-1] = parts[-1][:-1]        # decided by repair_hyphenation over the whole report
            parts.append("\u2060" + line.text)   # marks the join for repair_hyphenation
        else:
            parts.append((" " if parts else "") + line.text)
    return "".join(parts).strip()


def repair_hyphenation(blocks: list[Block]) -> None:
    """'organisa-|tion' -> 'organisation' but 'multi-|agency' -> 'multi-agency': a line-end hyphen is only
    removed with evidence that it is a break: the report writes the joined word elsewhere (and never the
    hyphenated one), or the second part is a bare suffix."""
    marked = re.compile(r"([A-Za-z]+)\u2060([a-z]+)")
    text = " ".join(marked.sub(" ", b.text) for b in blocks).lower()
    words = set(re.findall(r"[a-z]+(?:-[a-z]+)*", text))

    def decide(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        joined, hyphenated = (left + right).lower(), f"{left}-{right}".lower()
        if (joined in words and hyphenated not in words) or _SUFFIX.fullmatch(right):
            return left + right
        return f"{left}-{right}"

    for block in blocks:
        if "\u2060" in block.text:
            block.text = marked.sub(decide, block.text).replace("\u2060", "")


_SUFFIX = re.compile(r"(?:tion|tions|sion|sions|ment|ments|ness|ity|ities|ing|ings|ed|ly|ally|ance|ence|ances"
                     r"|ences|able|ible|ise|ised|ises|ize|ized|ous|ive|ives|ful|al|als|er|ers|est|ship|ships)")


def _heading_like(block: Block) -> bool:
    text = block.text
    if block.kind != "paragraph" or block.number or len(text) > 130 or "\n" in text:
        return False
    if len(text.split()) > 16 or not (text[0].isupper() or text[0].isdigit()):
        return False
    if _TOP_LEVEL.match(text):
        return not text.endswith(".")     # 'The Local Safeguarding Children Board has ... .' is a sentence
    if ": " in text:      # 'Lead inspector: Ian Young' is a line of text, '...care leavers: good' a heading
        return is_grade_statement(text) and text.rsplit(": ", 1)[0][:1].isupper()
    return not re.search(r"[.;:,]\s*$", text)


def merge_continuations(blocks: list[Block]) -> list[Block]:
    """Rejoin paragraphs cut by a page break (or by a converter's false '- ' bullet) and split headings."""
    out: list[Block] = []
    for block in blocks:
        prev = out[-1] if out else None
        if prev is not None and _continues(prev, block):
            prev.lines.extend(block.lines)
            prev.text = f"{prev.text} {block.text}"
            continue
        out.append(block)
    return out


def _continues(prev: Block, block: Block) -> bool:
    if block.kind in ("table", "heading") or block.number is not None:
        return False
    starts_lower = block.text[:1].islower() or block.text[:1] in "(,;"
    if prev.kind in ("paragraph", "bullet") and block.kind == "paragraph" \
            and prev.text.count("(") > prev.text.count(")") and re.match(r"[^()]*\)", block.text):
        return True     # '... (Outcome 3, National' + 'Framework)': the bracket a line break left open closes here
    if prev.kind == "paragraph" and _heading_like(prev) and _TRAILING_JOINER.search(prev.text):
        return block.kind == "paragraph"              # 'Leadership, management and' + 'governance Inadequate'
    if prev.kind not in ("paragraph", "bullet") or _TERMINAL.search(prev.text) or _heading_like(prev):
        return False
    if starts_lower:
        # A list whose items start in lower case is still a list; a false '- ' bullet follows a page break.
        return block.kind == "paragraph" or block.after_break
    if prev.kind == "bullet" and _TRAILING_JOINER.search(prev.text):
        return block.kind == "paragraph"   # '• ... under the age of 18 live in' + 'Surrey. This is 22% ...'
    if len(prev.text) < 100:             # a short unpunctuated line is a label ('Inspection date: ...')
        return False
    return block.kind == "paragraph" and not _heading_like(block) and (prev.kind == "paragraph" or block.after_break)


def mark_headings(blocks: list[Block]) -> list[Block]:
    """Short unpunctuated lines become headings; a 'Grade 2 (good)' line joins the heading above it;
    a grade stated inside a heading ('... achieving Requires improvement permanence') is moved to its end."""
    out: list[Block] = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        grade_line = block.kind in ("paragraph", "heading") and _GRADE_LINE.match(block.text)
        if grade_line and out and out[-1].kind == "heading":
            out[-1].text = f"{out[-1].text} | {block.text}"
            out[-1].lines.extend(block.lines)
            continue
        lead_in = following is not None and following.kind == "bullet" and (
            _LEAD_IN_END.search(block.text) or block.text.rstrip().endswith(":"))
        if block.kind == "heading" and lead_in and not _TOP_LEVEL.match(block.text):
            block.kind = "paragraph"      # '# ... require improvement because:' drawn as a heading is a lead-in
        if block.kind == "bullet" and _standalone_bullet_heading(block, out[-1] if out else None, following):
            block.kind = "heading"
        if block.kind == "paragraph" and _heading_like(block) and not lead_in:
            block.kind = "heading"
        if block.kind == "heading" and FRONT_MATTER.match(block.text):
            block.kind = "paragraph"      # 'Inspection date: ...' set in bold is the inspection's front matter
        if block.kind == "heading":
            block.text = _grade_to_end(block.text)
            block.grade_statement = is_grade_statement(block.text)
        elif block.kind == "paragraph" and not block.number and len(block.text.split()) <= 25:
            block.grade_statement = is_grade_statement(block.text)
        elif block.kind == "table" and len(block.lines) <= 3:
            # A 'Key judgement | Judgement grade' box opens the section on that judgement.
            block.grade_statement = is_grade_statement(block.text)
        out.append(block)
    return out


def _standalone_bullet_heading(block: Block, previous: Block | None, following: Block | None) -> bool:
    """'• Family Group Conference Service (FGC)' alone between paragraphs is a heading drawn as a bullet."""
    if len(block.lines) != 1 or len(block.text.split()) > 10 or re.search(r"[.!?:;,]$", block.text):
        return False
    if not block.text[:1].isupper():
        return False
    return (previous is None or previous.kind != "bullet") and following is not None and following.kind == "paragraph"


def _grade_to_end(text: str) -> str:
    if " | " in text:
        return text
    match = GRADE_IN_HEADING.search(text)
    if not match or match.end() == len(text) and match.start() < 3:
        return text
    area = (text[:match.start()] + " " + text[match.end():]).strip()
    area = re.sub(r"\s+", " ", area).rstrip(" .:-")
    if len(area.split()) < 2 or not mentions_area(area):
        return text
    grade = match.group(0).strip()
    return f"{area} | {grade[0].upper()}{grade[1:].lower()}"


def infer_numbers(blocks: list[Block]) -> None:
    """Paragraph numbers lost at page tops by OCR come back from their neighbours: within one section,
    numbered paragraphs run consecutively, so an unnumbered paragraph after n is n+1 (or before m is m-1)
    unless that number is already taken."""
    used = {b.number for b in blocks if b.number}
    for section in _sections(blocks):
        paragraphs = [b for b in section if b.kind == "paragraph" and not b.grade_statement]
        if not any(_numeric(b) for b in paragraphs):
            continue
        for order in (paragraphs, list(reversed(paragraphs))):
            step = 1 if order is paragraphs else -1
            previous: int | None = None
            for block in order:
                if _numeric(block):
                    previous = int(block.number)
                elif previous is not None and previous + step > 0 and str(previous + step) not in used:
                    previous += step
                    block.number = str(previous)
                    used.add(block.number)
                else:
                    previous = None


def _numeric(block: Block) -> bool:
    return bool(block.number and block.number.isdigit())


def _sections(blocks: list[Block]) -> list[list[Block]]:
    sections: list[list[Block]] = [[]]
    for block in blocks:
        if block.kind == "heading" or block.grade_statement:
            sections.append([])
        sections[-1].append(block)
    return sections


def chunk(lines: list[Line], contents: dict[str, int] | None = None) -> list[Chunk]:
    lines = [line for line in assign_pages(lines, contents) if line.kind != DROPPED]
    blocks = build_blocks(lines)
    repair_hyphenation(blocks)
    blocks = [b for b in merge_continuations(blocks) if not is_boilerplate(b.text)]
    blocks = mark_headings(blocks)
    blocks = form_judgement_boxes(merge_tiny(blocks))
    infer_numbers(blocks)
    return list(_with_context(blocks))


def _with_context(blocks: list[Block]):
    top: str | None = None          # a top-level section ('Safeguarding services')
    sub: str | None = None          # the heading under it
    lead_in = ""
    for block in blocks:
        if block.kind == "heading" or block.grade_statement and (len(block.text.split()) <= 25 or block.statement):
            title = _title(block)
            if _TOP_LEVEL.match(title) or block.grade_statement and _TOP_LEVEL.match(title.split(" | ")[0]):
                top, sub = title, None
            else:
                sub = title
            lead_in = ""
            if block.kind == "heading" and not block.grade_statement:
                continue
            yield _make_chunk(block, _path(top, sub), "")
            continue
        if block.kind == "bullet":
            yield _make_chunk(block, _path(top, sub), lead_in)
            continue
        yield _make_chunk(block, _path(top, sub), "")
        lead_in = _last_sentence(block.text) if block.kind == "paragraph" else ""


def _path(top: str | None, sub: str | None) -> tuple[str, ...]:
    return tuple(x for x in (top, sub) if x)


def _title(block: Block) -> str:
    if block.statement:
        return block.statement.rstrip(".")
    if block.kind == "table":
        return next((row for row in block.text.split("\n") if is_grade_statement(row)), block.text).rstrip(".")
    return block.text.rstrip(".")


def _make_chunk(block: Block, headings: tuple[str, ...], lead_in: str) -> Chunk:
    kind = "table" if block.kind == "table" else "bullet" if block.kind == "bullet" else "paragraph"
    page = next((line.page for line in block.lines if line.page is not None), None)
    return Chunk(block.text, block.raw, headings, block.number, page, kind, lead_in)


def _last_sentence(text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip())
    last = sentences[-1] if sentences else ""
    return last if len(last) <= 300 else last[:300].rsplit(" ", 1)[0] + " …"
