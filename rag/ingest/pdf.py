"""Reading a PDF's layout into source lines: what a reader sees, not the order the PDF stores its text in.

PyMuPDF gives each text line with its position. From the positions:
  - running headers and footers (a line in the top or bottom margin that repeats across pages, such as
    "Inspection of Dorset local authority children's services / 17 to 21 March 2025", and page numbers)
    are dropped;
  - a paragraph number or bullet set in a gutter ("12." left of its paragraph) is joined to its text;
  - cells side by side on one row (a grade table: "The impact of leaders ..." | "Outstanding") become one
    table row, cells separated by tabs, as the other readers write tables;
  - every other block becomes lines, the later lines of a block marked as continuing the first.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

MARGIN = 0.09              # the top and bottom 9% of a page hold running headers and footers
MAX_CELL_LINES = 8         # a cell of a table row; a longer block side by side with another is not a table
HEADING_STEP = 1.0         # points above the body size that make a bold line a heading
_GUTTER = re.compile(r"^\s*(?:\d{1,3}\.?|[•·▪■◼●◦○\-\u2022\ue000-\uf8ff])\s*$")   # private use: Word's bullet glyphs
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,3}(?:\s+of\s+\d{1,3})?\s*$", re.I)


@dataclass
class _Line:
    page: int
    block: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    size: float = 0.0
    bold: bool = False


@dataclass
class _Cell:
    lines: list[_Line] = field(default_factory=list)

    @property
    def x0(self) -> float:
        return min(line.x0 for line in self.lines)

    @property
    def x1(self) -> float:
        return max(line.x1 for line in self.lines)

    @property
    def y0(self) -> float:
        return min(line.y0 for line in self.lines)

    @property
    def y1(self) -> float:
        return max(line.y1 for line in self.lines)

    def text(self) -> str:
        return " ".join(line.text.strip() for line in self.lines)


def page_lines(doc) -> list[list[_Line]]:
    """Every page's text lines with their positions (empty lines dropped)."""
    pages = []
    for number, page in enumerate(doc, start=1):
        lines = []
        for block_no, block in enumerate(page.get_text("dict", sort=True)["blocks"]):
            if block.get("type") != 0:
                continue
            for line in block["lines"]:
                spans = [span for span in line["spans"] if span["text"].strip() and not _footnote_mark(span)]
                if spans:
                    size = max(span["size"] for span in spans)
                    bold = all(span["flags"] & 16 or "bold" in span["font"].lower() for span in spans)
                    text = "".join(span["text"] for span in line["spans"] if not _footnote_mark(span)).rstrip()
                    lines.append(_Line(number, block_no, *line["bbox"], text, size, bold))
        pages.append(lines)
    return pages


def _footnote_mark(span: dict) -> bool:
    """A superscript number or mark after a word ('board¹', 'inadequate.²'): a reference to a footnote,
    not part of the sentence."""
    return bool(span["flags"] & 1) and bool(re.fullmatch(r"\s*[\d*†‡,]+\s*", span["text"]))


def _key(text: str) -> str:
    """A running header's text with its numbers out (the page number and dates change from page to page)."""
    return re.sub(r"\d+", "#", " ".join(text.split()).lower())


def running_lines(pages: list[list[_Line]], heights: list[float]) -> set[str]:
    """Keys of lines in the margins that repeat on at least three pages (or a third of them)."""
    counts: Counter[str] = Counter()
    for lines, height in zip(pages, heights):
        seen = {_key(line.text) for line in lines if line.y1 < height * MARGIN or line.y0 > height * (1 - MARGIN)}
        counts.update(seen)
    needed = max(3, len(pages) // 3) if len(pages) >= 3 else 10**9
    return {key for key, n in counts.items() if n >= needed}


def _in_margin(line: _Line, height: float) -> bool:
    return line.y1 < height * MARGIN or line.y0 > height * (1 - MARGIN)


def _cells(lines: list[_Line]) -> list[_Cell]:
    """A block's lines as cells: a line set like the line right above it (overlapping across) continues its
    cell; a line beside another (a grade to the right of its area) or under a differently set one (the
    paragraph under a heading that sits between it and the paragraph before) starts its own."""
    cells: list[_Cell] = []
    by_block: dict[int, list[_Line]] = {}
    for line in lines:
        by_block.setdefault(line.block, []).append(line)
    for block_lines in by_block.values():
        mine: list[_Cell] = []
        for line in block_lines:
            above = [c for c in mine if c.lines[-1].x0 < line.x1 and line.x0 < c.lines[-1].x1
                     and line.y0 >= c.lines[-1].y0 - 2]
            home = max(above, key=lambda c: c.lines[-1].y0, default=None)
            if home is None or not _same_type(home.lines[-1], line):
                mine.append(_Cell([line]))
            else:
                home.lines.append(line)
        cells.extend(mine)
    return _join_gutters(cells)


def _same_type(a: _Line, b: _Line) -> bool:
    """Lines set alike: a bold heading and the paragraph under it are two cells, even in one block."""
    return abs(a.size - b.size) < 1.0 and a.bold == b.bold


def _join_gutters(cells: list[_Cell]) -> list[_Cell]:
    """'12.' or bullets alone in the gutter, each level with a line of a cell to its right: the mark goes
    before that line (which then starts a numbered paragraph). The cell need not start level with the first
    mark: a page can open with the end of the paragraph begun on the page before."""
    out = list(cells)
    for gutter in [c for c in cells if all(_GUTTER.match(line.text) for line in c.lines)]:
        joined = False
        for mark in gutter.lines:
            # The nearest line to the right of the mark and level with it (its cell may reach further left,
            # where a later paragraph's number is set inline: '10. Responses to children ...').
            level = [(line.x0, c, i) for c in out if c is not gutter for i, line in enumerate(c.lines)
                     if abs(line.y0 - mark.y0) < 4 and line.x0 >= mark.x1 - 1]
            if level:
                _, target, at = min(level, key=lambda found: found[0])
                line = target.lines[at]
                target.lines[at] = _Line(line.page, line.block, mark.x0, line.y0, line.x1, line.y1,
                                         f"{mark.text.strip()} {line.text.lstrip()}", line.size, line.bold)
                joined = True
        if joined:
            out.remove(gutter)
    return out


def _rows(cells: list[_Cell]) -> list[list[_Cell]]:
    """Cells in reading order, grouped into rows: cells side by side whose heights overlap share a row."""
    rows: list[list[_Cell]] = []
    for cell in sorted(cells, key=lambda c: (round(c.y0), c.x0)):
        row = rows[-1] if rows else None
        if row is not None and all(cell.x0 >= other.x1 - 1 or cell.x1 <= other.x0 + 1 for other in row) and \
                any(min(cell.y1, o.y1) - max(cell.y0, o.y0) > 0.5 * min(cell.y1 - cell.y0, o.y1 - o.y0)
                    for o in row):
            row.append(cell)
        else:
            rows.append([cell])
    return [sorted(row, key=lambda c: c.x0) for row in rows]


def body_size(pages: list[list[_Line]]) -> float:
    """The font size most of the text is set in."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _is_heading(cell: _Cell, body: float) -> bool:
    """Bold and larger than the body text, and short: a section heading."""
    return (all(line.bold and line.size >= body + HEADING_STEP for line in cell.lines)
            and len(cell.text().split()) <= 30)


def _is_table_row(row: list[_Cell]) -> bool:
    return len(row) >= 2 and all(len(cell.lines) <= MAX_CELL_LINES for cell in row)


def _aligned(row: list[_Cell]) -> list[list[str]]:
    """A row's cells as text; a column of labels ending in ':' beside their values ('Age group:' | 'All'
    over 'Published:' | '23 August 2013') is a row per label."""
    counts = {len(cell.lines) for cell in row}
    if len(counts) == 1 and counts != {1} and all(line.text.rstrip().endswith(":") for line in row[0].lines) and all(
            abs(row[0].lines[i].y0 - cell.lines[i].y0) < 3 for cell in row for i in range(len(cell.lines))):
        return [[cell.lines[i].text.strip() for cell in row] for i in range(len(row[0].lines))]
    return [[cell.text() for cell in row]]


def layout_lines(doc) -> Iterable[tuple[str, int, bool]]:
    """(text, page, continues) for the source lines of a document; '' separates blocks."""
    pages = page_lines(doc)
    heights = [page.rect.height for page in doc]
    running = running_lines(pages, heights)
    body = body_size(pages)
    for lines, height in zip(pages, heights):
        kept = [line for line in lines if not (_in_margin(line, height)
                                               and (_key(line.text) in running or _PAGE_NUMBER.match(line.text)))]
        in_table = False
        for row in _rows(_cells(kept)):
            page = row[0].lines[0].page
            if _is_table_row(row):
                for cells in _aligned(row):
                    yield "\t".join(cells), page, False
                in_table = True
                continue
            if in_table:
                yield "", page, False
                in_table = False
            for cell in row:
                if _is_heading(cell, body):
                    yield "## " + cell.text(), page, False
                else:
                    for i, line in enumerate(cell.lines):
                        yield line.text, page, i > 0
                yield "", page, False
        if in_table:
            yield "", len(pages), False
