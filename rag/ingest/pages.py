"""Page numbers for text files, which have none of their own: page breaks counted from anchors of known
page (printed page-number lines, headings listed on the contents page). Lines read from a PDF already
carry their page and are left alone."""
from __future__ import annotations

from dataclasses import replace

from rag.ingest.cleaning import BLANK, BREAK, HEADING, TEXT, Line, title_key


def assign_pages(lines: list[Line], contents: dict[str, int] | None = None) -> list[Line]:
    """Text files: count page breaks from anchors of known page number: printed page-number lines (which
    end their page) and headings listed on the contents page. An anchor that disagrees with its neighbours
    is dropped. Without breaks or anchors the pages stay unknown rather than guessed."""
    if any(line.page is not None for line in lines) or not any(line.kind == BREAK for line in lines):
        return lines
    segment_of: list[int] = []
    anchors: list[tuple[int, int]] = []       # (segment, page)
    seen_titles: set[str] = set()
    segment, has_text = 0, False
    for line in lines:
        if line.kind == BREAK:
            if line.text.isdigit():
                anchors.append((segment, int(line.text)))
            if has_text:
                segment, has_text = segment + 1, False
        elif line.kind != BLANK:
            has_text = True
            key = title_key(line.text) if contents and line.kind in (TEXT, HEADING) and len(line.text) < 120 else ""
            if key in (contents or {}) and key not in seen_titles:
                seen_titles.add(key)
                anchors.append((segment, contents[key]))
        segment_of.append(segment)
    anchors = _consistent(sorted(set(anchors)))
    if not anchors:
        return lines

    def page_of(seg: int) -> int:
        nearest_seg, nearest_page = min(anchors, key=lambda a: (abs(a[0] - seg), a[0] < seg))
        return max(1, nearest_page + seg - nearest_seg)

    return [replace(line, page=page_of(seg)) for line, seg in zip(lines, segment_of)]


def _consistent(anchors: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop anchors whose page-minus-segment offset disagrees with the most common offset by more than one."""
    if len(anchors) < 3:
        return anchors
    offsets = [page - seg for seg, page in anchors]
    common = max(set(offsets), key=offsets.count)
    return [a for a, off in zip(anchors, offsets) if abs(off - common) <= 1]
