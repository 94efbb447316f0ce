"""Report text made safe for the places it is written to outside HTML (rag/ui_render.escape does HTML):
a terminal, a Markdown file, a spreadsheet; and text coming in (reports, questions) rid of escape sequences. Reports come from anyone who can upload one, so their text
may carry escape sequences, markup or formulas; these keep it as text that reads the same.
"""
from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls (0x9b starts a terminal sequence on its own), and
# the bidirectional overrides that make a line display in another order than it reads.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Text coming in (a report being read, a question): a terminal escape sequence as a whole (CSI, OSC, or a
# two-character ESC x) and any other control character, but tab, newline, CR and form feed, which are layout.
_ESCAPES = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
                      r"|[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Our own citation keys stay as written; a key followed by '(' would make a Markdown link, so it is escaped.
_KEY = re.compile(r"\[(?:\d{1,2}(?:\s*,\s*\d{1,2})*|unverified)\](?!\()")
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def without_escapes(text: str, replacement: str = "") -> str:
    """Incoming text without escape sequences and control characters (never report or question text)."""
    return _ESCAPES.sub(replacement, text)


def without_controls(text: object) -> str:
    """Text without the characters a terminal (or a viewer) acts on instead of showing."""
    return _CONTROLS.sub("", str(text if text is not None else ""))


def terminal_safe(text: object) -> str:
    """Safe to print: an ESC in a report cannot clear the screen, move the cursor or set a title."""
    return without_controls(text)


def markdown(text: object) -> str:
    """Report or user text inside a Markdown document: shown as text by any Markdown viewer (no HTML,
    no links, no emphasis), citation keys kept. Lines stay lines."""
    text = without_controls(text)
    out: list[str] = []
    position = 0
    for match in _KEY.finditer(text):
        out.append(_markdown_plain(text[position:match.start()]))
        out.append(match.group())
        position = match.end()
    out.append(_markdown_plain(text[position:]))
    return re.sub(r"(?m)^(\s*)([#>+-]|\d+[.)])(?=\s|$)", r"\1\\\2", "".join(out))   # no headings or lists


def _markdown_plain(text: str) -> str:
    # A backslash, not an entity: '\<' shows as '<' in a viewer and reads as itself in plain text; a '>'
    # inside a line is inert ('Section > Topic'), one at a line start is escaped by markdown().
    text = _MARKDOWN_ACTIVE.sub(r"\\\1", _ENTITY.sub("&amp;", text))
    return text.replace("<", "\\<")


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading apostrophe."""
    if isinstance(value, (int, float)):
        return str(value)                    # a number is data, even a negative one
    text = "" if value is None else str(value)
    return ("'" if text.startswith(_FORMULA_START) else "") + without_controls(text)
