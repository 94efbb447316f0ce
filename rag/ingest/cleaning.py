"""Clean extraction noise, line by line, and classify each line for chunking.

The rules come from noise really found in downloaded reports (PDF -> text/markdown conversions):
tab-broken words, OCR'd bullets, LaTeX and HTML fragments, markdown marks, running headers,
page-number lines and garbled contents pages. Each rule is a small named function so tests can
pin it to the snippet that motivated it.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass, replace

from rag.ingest.readers import SourceLine

# Line kinds produced by classify_lines.
BLANK, BREAK, TEXT, HEADING, BULLET, SUBBULLET, TABLE, DROPPED = (
    "blank", "break", "text", "heading", "bullet", "subbullet", "table", "dropped")


@dataclass(frozen=True)
class Line:
    kind: str
    text: str                  # cleaned
    raw: str                   # as in the source
    page: int | None = None
    level: int = 0             # markdown heading level when the source gave one
    number: str | None = None  # a leading paragraph number ("47") taken off the text
    continues: bool = False    # wraps on from the line before it (a PDF text block's later lines)


# ---- inline rules -------------------------------------------------------------------------------

_TAB_BROKEN_WORD = re.compile(r"(?<=[A-Za-z])\t(?=[a-z])")
_LATEX_WRAPPER = re.compile(r"\\(?:ensuremath|mathsf|mathrm|mathbf|textbf|textit|text|mathit)\s*\{([^{}]*)\}")
_LATEX_SUPERSCRIPT = re.compile(r"\^\{?\d+\}?")
_FRACTION = re.compile(r"(\d*)<sup>\s*(\d)\s*</sup>\s*(?:/|&frasl;|⁄)\s*<sub>\s*(\d)\s*</sub>")
_FRACTIONS = {("1", "2"): "½", ("1", "4"): "¼", ("3", "4"): "¾", ("1", "3"): "⅓", ("2", "3"): "⅔"}
_GARBLED_FOOTNOTE = re.compile(r"<sup>&</sup>lt;sup>(\d+)</sup>")
_SUP_REFERENCE = re.compile(r"<sup>\s*[\d*†,\s]+\s*</sup>")
_TAG = re.compile(r"</?(?:sup|sub|span|b|i|em|strong|u|br|small)\b[^>]*>", re.I)
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_FOOTNOTE_MARK = re.compile(r"(?<=[A-Za-z.)])[¹²³⁴⁵⁶⁷⁸⁹⁰]+")


def fix_tab_broken_words(text: str) -> str:
    """'Child\\tren who need help' -> 'Children who need help' (a tab inside a word, from a table cell split)."""
    return _TAB_BROKEN_WORD.sub("", text)


def strip_latex(text: str) -> str:
    r"""'$\ensuremath{\mathsf{Board}}^1$' -> 'Board' (math-mode residue from a PDF converter)."""
    if "$" not in text and "\\" not in text:
        return text

    def unwrap(match: re.Match[str]) -> str:
        inner = match.group(1)
        while _LATEX_WRAPPER.search(inner):
            inner = _LATEX_WRAPPER.sub(lambda m: m.group(1), inner)
        return inner

    out = re.sub(r"\$([^$]{0,200})\$", lambda m: _LATEX_SUPERSCRIPT.sub("", _LATEX_WRAPPER.sub(unwrap, m.group(1))), text)
    out = _LATEX_WRAPPER.sub(unwrap, out)
    return out.replace("\\*", "*").replace("\\_", "_").replace("\\&", "&").replace("\\%", "%")


def strip_html(text: str) -> str:
    """'17<sup>1</sup>/<sub>2</sub>' -> '17½'; footnote references dropped; a garbled footnote start kept as its number."""
    if "<" not in text and "&" not in text:
        return text
    text = _FRACTION.sub(lambda m: m.group(1) + _FRACTIONS.get((m.group(2), m.group(3)), f" {m.group(2)}/{m.group(3)}"), text)
    text = _GARBLED_FOOTNOTE.sub(lambda m: f"[{m.group(1)}]", text)
    text = _SUP_REFERENCE.sub("", text)
    text = _TAG.sub("", text)
    return html.unescape(text)


def strip_markdown_marks(text: str) -> str:
    """'**requires improvement.**' -> 'requires improvement.'; keeps the words, drops the emphasis."""
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    text = text.replace("**", "")
    return re.sub(r"(?<!\w)\*(?=\S)([^*\n]{1,200}?)(?<=\S)\*(?!\w)", r"\1", text)


def strip_footnote_marks(text: str) -> str:
    """'Board¹' -> 'Board' (superscript footnote references after a word)."""
    return _FOOTNOTE_MARK.sub("", text)


def clean_inline(text: str) -> str:
    text = fix_tab_broken_words(text)
    text = strip_latex(text)
    text = strip_html(text)
    text = strip_markdown_marks(text)
    text = strip_footnote_marks(text)
    text = text.replace("\u00a0", " ").replace("\u00ad", "")
    if not _BULLET.match(text):
        text = _PRIVATE_USE.sub("", text)        # a symbol-font glyph inside a line: a box to a reader
    text = re.sub(r"[ \u2000-\u200b]+", " ", text)
    # OCR debris before the first word, e.g. ') . Inadequate' from a table border.
    text = re.sub(r"^(?:[).,;:|]\s*)+(?=[A-Za-z])", "", text.strip(" "))
    return text


# ---- line classification ------------------------------------------------------------------------

_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?(\d{1,3})(?:\s+of\s+\d{1,3})?\s*$", re.I)
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
# Bullet glyphs, including OCR misreadings of a square bullet ('B ', 'm ', '®') and the private-use glyphs
# of Word's symbol fonts (U+F0B7, U+F06E, ...), which show as boxes anywhere else.
_BULLET = re.compile(r"^\s*(?:[-*•·■▪●◦○◼®]\s+|[\ue000-\uf8ff]\s*|[Bm]\s+(?=[A-Z0-9]))(?=\S)")
_PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")
_SUB_BULLET = re.compile(r"^(?:\s{1,8}[-*•◦o]\s+|\s*[—–]\s+)(?=\S)")
_NUMBERED = re.compile(r"^(?:-\s+)?(\d{1,3})\.\s+(?=\S)")
_GRADE_GLUED = re.compile(r"^(.{3,120}?)\s*\*\*(Grade \d \([a-z ]+\))\*\*\s*$")
_CONTENTS_ENTRY = re.compile(r"^[^\t]{3,120}?(?:\t+|\s{2,}|\.{3,}\s*)\d{1,3}[\t ]*$")


def is_junk(text: str) -> bool:
    """Lines that carry no words: OCR debris of a logo or a contents banner ('C N n T ٦r ٦T C', '_')."""
    letters = re.findall(r"[A-Za-z]{3,}", text)
    tokens = text.split()
    if not letters:
        # '2011.' ending a wrapped sentence is not debris; 'U U - 1 IL ر.' is. [0-9], not \d: OCR reads
        # logo strokes as Arabic-Indic digits ('٦'), which \d matches.
        numeric = sum(1 for t in tokens if re.search(r"[0-9]", t))
        return numeric == 0 or (len(tokens) >= 4 and numeric / len(tokens) < 0.4)
    short = sum(1 for t in tokens if len(t) <= 2)
    return len(tokens) >= 4 and short / len(tokens) > 0.6


def running_headers(lines: list[str]) -> set[str]:
    """Short lines repeated across the document next to page breaks (e.g. 'Ofsted'): running headers/footers."""
    stripped = [line.strip() for line in lines]
    counts = Counter(s for s in stripped if 0 < len(s) <= 60)
    headers = {"Ofsted"} if "Ofsted" in counts else set()
    for text, count in counts.items():
        if count < 3 or _PAGE_NUMBER.match(text):
            continue
        near_break = 0
        for i, s in enumerate(stripped):
            if s != text:
                continue
            window = stripped[max(0, i - 4):i] + stripped[i + 1:i + 5]
            if any(_PAGE_NUMBER.match(w) for w in window if w):
                near_break += 1
        if near_break >= 2:
            headers.add(text)
    return headers


def contents_lines(raw_lines: list[str]) -> set[int]:
    """Indexes of a contents page: a run of 3+ non-blank lines, most of them 'Title<TAB>page', plus its title."""
    drop: set[int] = set()
    run: list[int] = []
    for index, raw in enumerate(raw_lines + [""]):
        if raw.strip():
            run.append(index)
            continue
        entries = [i for i in run if _CONTENTS_ENTRY.match(raw_lines[i])]
        if len(entries) >= 3 and len(entries) * 2 >= len(run):
            drop.update(run)
            title = next((i for i in range(run[0] - 1, max(-1, run[0] - 6), -1) if raw_lines[i].strip()), None)
            if title is not None and re.search(r"contents", raw_lines[title], re.I):
                drop.add(title)
        run = []
    drop.update(i for i, raw in enumerate(raw_lines)
                if re.fullmatch(r"#*\s*(?:\*\*)?(?:table of )?contents(?:\*\*)?", raw.strip(), re.I))
    return drop


def contents_entries(source: list[SourceLine]) -> dict[str, int]:
    """The contents page as {normalised title: page}, used to check page numbering."""
    raw_lines = [s.text for s in source]
    entries: dict[str, int] = {}
    for index in sorted(contents_lines(raw_lines)):
        match = re.match(r"^(.*?)(?:\t+|\s{2,}|\.{3,}\s*)(\d{1,3})[\t ]*$", raw_lines[index])
        if match:
            entries.setdefault(title_key(match.group(1)), int(match.group(2)))
    return entries


def title_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", clean_inline(text.replace("\t", " ")).lower()).strip()


def uses_space_page_marks(raw_lines: list[str]) -> bool:
    """pdftotext can leave a single space where a form feed was; trust that only when such lines are rare."""
    marked = sum(1 for r in raw_lines if r.startswith(" ") and not r.startswith("  ") and r.strip()
                 and not _SUB_BULLET.match(r))
    texts = sum(1 for r in raw_lines if r.strip())
    return 0 < marked <= max(3, texts // 20)


def classify_lines(source: list[SourceLine]) -> list[Line]:
    """Clean every line and say what it is. Page breaks become BREAK lines (carrying the page number when
    the line was a printed page number); contents pages and debris are dropped."""
    raw_lines = [s.text for s in source]
    headers = running_headers(raw_lines)
    contents = contents_lines(raw_lines)
    space_marks = uses_space_page_marks(raw_lines)
    out: list[Line] = []
    blank_run = 0
    for index, src in enumerate(source):
        raw = src.text
        if raw.strip() == "\f":
            out.append(Line(BREAK, "", raw, src.page))
            continue
        if not raw.strip():
            blank_run += 1
            # Three or more blank lines are where a PDF page ended in these conversions.
            out.append(Line(BREAK if blank_run == 3 else BLANK, "", raw, src.page))
            continue
        blank_run = 0
        if index in contents:
            out.append(Line(DROPPED, "", raw, src.page))      # kept only so page counting sees the page
            continue
        page_number = _PAGE_NUMBER.match(raw.replace("\t", " "))
        if page_number and src.page is None:
            out.append(Line(BREAK, page_number.group(1), raw, src.page))
            continue
        if page_number and _alone_in_block(source, index):
            out.append(Line(DROPPED, "", raw, src.page))      # a PDF's printed page number: the PDF knows its pages
            continue
        if raw.strip() in headers:
            out.append(Line(BREAK, "", raw, src.page))
            continue
        if is_junk(clean_inline(raw.replace("\t", " "))):
            out.append(Line(DROPPED, "", raw, src.page))
            continue
        if space_marks and src.page is None and raw.startswith(" ") and not raw.startswith("  ") \
                and not _SUB_BULLET.match(raw) and out:
            out.append(Line(BREAK, "", "", src.page))
        line = _classify_text(raw, src.page)
        out.append(replace(line, continues=True) if src.continues else line)
    return out


def _alone_in_block(source: list[SourceLine], index: int) -> bool:
    return all(not (0 <= i < len(source)) or not source[i].text.strip() for i in (index - 1, index + 1))


def _classify_text(raw: str, page: int | None) -> Line:
    glued = _GRADE_GLUED.match(raw.strip())
    if glued:  # 'Quality of provision**Grade 2 (good)**': a heading with its grade glued on
        return Line(HEADING, f"{clean_inline(glued.group(1))} | {glued.group(2)}", raw, page, level=0)
    heading = _MD_HEADING.match(raw.strip())
    if heading:
        return Line(HEADING, clean_inline(heading.group(2)), raw, page, level=len(heading.group(1)))
    if _SUB_BULLET.match(raw):
        return Line(SUBBULLET, clean_inline(_SUB_BULLET.sub("", raw)), raw, page)
    cells = [c for c in (clean_inline(c) for c in fix_tab_broken_words(raw).split("\t")) if c]
    if len(cells) >= 2:
        return Line(TABLE, " | ".join(cells), raw, page)
    text = clean_inline(raw.replace("\t", " "))
    if _BULLET.match(text) and not _NUMBERED.match(text):
        text = _BULLET.sub("", text)
        numbered = _NUMBERED.match(text)
        if numbered:
            return Line(TEXT, text[numbered.end():], raw, page, number=numbered.group(1))
        return Line(BULLET, text, raw, page)
    numbered = _NUMBERED.match(text)
    if numbered:
        return Line(TEXT, text[numbered.end():], raw, page, number=numbered.group(1))
    return Line(TEXT, text, raw, page)
