"""Read a report file of any supported format into a stream of source lines.

Every format is reduced to the same shape, markdown-flavoured lines with the page they came from
(when the format has pages), so cleaning and chunking have a single path:
  - headings keep (or gain) leading '#' marks,
  - list items start with '- ',
  - table rows keep tab-separated cells,
  - an empty line separates blocks.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from rag.errors import EmptyReport, ReportTooLarge, UnreadableReport, UnsupportedFormat
from rag.ingest.pdf import layout_lines
from rag.text.sanitize import without_escapes

SUPPORTED = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
MEGABYTE = 1024 * 1024



@dataclass(frozen=True)
class SourceLine:
    text: str
    page: int | None = None     # page of the source format (PDF); text files get pages later from page-number lines
    continues: bool = False     # PDF: wraps on from the line before it in the same text block (one paragraph)


def read_source(path: Path, max_bytes: int | None = None) -> list[SourceLine]:
    """The file as source lines. Raises a ReportError subclass whose message names the file, says what is
    wrong and what to do. A file over max_bytes is refused before it is read, so memory stays bounded."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFormat(f"{path.name}: unsupported file type '{suffix or '(none)'}'; "
                                f"convert it to one of {', '.join(SUPPORTED)} or move it out of the corpus.")
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise ReportTooLarge(f"{path.name}: {size / MEGABYTE:.1f} MB is over the {max_bytes / MEGABYTE:g} MB "
                                 f"limit for one report (RAG_MAX_FILE_MB); check it is an inspection report, "
                                 f"or raise the limit.")
        data = path.read_bytes()
    except OSError as e:
        raise UnreadableReport(f"{path.name}: cannot be read ({e.strerror}); check its permissions.") from None
    if not data.strip():
        what = "empty" if not data else "blank (only whitespace)"
        raise EmptyReport(f"{path.name}: the file is {what}; download or export the report again.")
    reader = {".txt": _read_text, ".md": _read_text, ".pdf": _read_pdf, ".docx": _read_docx,
              ".html": _read_html, ".htm": _read_html}[suffix]
    lines = [SourceLine(without_escapes(line.text), line.page, line.continues) for line in reader(path, data)]
    if not any(line.text.strip() for line in lines):
        raise EmptyReport(f"{path.name}: no text could be extracted"
                          + ("; it looks scanned (no text layer): run OCR on it first, e.g. ocrmypdf."
                             if suffix == ".pdf" else "; download or export the report again."))
    return lines


def document_date(path: Path) -> str | None:
    """The day a PDF says it was made (its own metadata), ISO: Ofsted publishes a report within days of
    making its PDF, so it stands for a publication date the text does not print. None for other formats."""
    if path.suffix.lower() != ".pdf":
        return None
    import pymupdf
    try:
        with pymupdf.open(path) as doc:
            stamp = (doc.metadata or {}).get("creationDate") or ""
    except Exception:  # noqa: BLE001 - a PDF that cannot be opened has no date to give
        return None
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})", stamp)
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else None


def decode_text(name: str, data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise UnreadableReport(f"{name}: looks like a binary file, not text; check it is the report, "
                               f"and give it its real extension (.pdf, .docx) if it is one.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != "utf-8-sig" and _mostly_control(text):
            break
        return text
    raise UnreadableReport(f"{name}: the text is neither UTF-8 nor Windows-1252; save it as UTF-8.")


def _mostly_control(text: str) -> bool:
    bad = sum(1 for c in text[:5000] if ord(c) < 32 and c not in "\t\n\r\f")
    return bad > len(text[:5000]) * 0.05


def _read_text(path: Path, data: bytes) -> list[SourceLine]:
    text = decode_text(path.name, data).replace("\r\n", "\n").replace("\r", "\n")
    # A form feed is a page break in text exported from PDF: keep it as a marker line for chunking.
    text = text.replace("\f", "\n\f\n")
    return [SourceLine(line) for line in text.split("\n")]


def _read_pdf(path: Path, data: bytes) -> list[SourceLine]:
    import pymupdf  # imported here: the other formats do not need it

    if b"%PDF-" not in data[:1024]:     # e.g. an HTML error page saved under the report's name
        raise UnreadableReport(f"{path.name}: not a PDF (it does not start with a PDF header); "
                               f"download it again.")
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as e:  # pymupdf raises its own error types for broken files
        raise UnreadableReport(f"{path.name}: not a readable PDF ({e}); download it again.") from None
    with doc:
        if doc.needs_pass:
            raise UnreadableReport(f"{path.name}: the PDF is password-protected; save a copy without a password.")
        return [SourceLine(text, page, continues) for text, page, continues in layout_lines(doc)]


def _read_docx(path: Path, data: bytes) -> list[SourceLine]:

    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError

    if data.startswith(b"\xd0\xcf\x11\xe0"):     # OLE2: a Word 97-2003 file renamed to .docx
        raise UnreadableReport(f"{path.name}: an old Word .doc file, not .docx; open it in Word and save it "
                               f"as .docx.")
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except Exception as e:  # noqa: BLE001 - python-docx fails in many ways on a zip that is not a document
        detail = str(e) if isinstance(e, (PackageNotFoundError, zipfile.BadZipFile, KeyError)) else "not a Word document inside"
        raise UnreadableReport(f"{path.name}: not a readable Word document ({detail}); open it in Word and "
                               f"save it again as .docx.") from None
    lines: list[SourceLine] = []
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = docx.text.paragraph.Paragraph(child, document)
            lines.extend(_docx_paragraph(para))
        elif tag == "tbl":
            table = docx.table.Table(child, document)
            for row in table.rows:
                cells = [c.text.strip().replace("\n", " ") for c in row.cells]
                lines.append(SourceLine(_table_row(_dedupe_merged(cells))))
            lines.append(SourceLine(""))
    return lines


def _table_row(cells: list[str]) -> str:
    """Cells joined by tabs; a one-cell row (a merged sub-heading such as 'Safeguarding services') keeps a
    trailing tab, as in the text seeds, so it stays inside its table instead of becoming a heading."""
    cells = [c for c in cells if c]
    return "\t".join(cells) + ("\t" if len(cells) == 1 else "")


def _dedupe_merged(cells: list[str]) -> list[str]:
    """Merged cells repeat their text in python-docx; keep one copy."""
    out: list[str] = []
    for cell in cells:
        if not out or cell != out[-1]:
            out.append(cell)
    return out


def _docx_paragraph(para) -> list[SourceLine]:
    text = para.text.strip()
    if not text:
        return []
    style = (para.style.name or "").lower() if para.style is not None else ""
    level = re.match(r"heading (\d)", style)
    if level:
        text = "#" * int(level.group(1)) + " " + text
    elif style == "title":
        text = "# " + text
    elif "list" in style:
        text = "- " + text
    return [SourceLine(text), SourceLine("")]


_BLOCK_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "pre", "blockquote", "dt", "dd", "caption")


def _read_html(path: Path, data: bytes) -> list[SourceLine]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(path.name, data), "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "template"]):
        tag.decompose()
    root = soup.body or soup
    lines: list[SourceLine] = []
    for element in root.find_all(_BLOCK_TAGS):
        # Only the innermost block elements, so a <li> holding a <p> is not read twice.
        if element.find(_BLOCK_TAGS):
            continue
        if element.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in element.find_all(["td", "th"])]
            text = _table_row(cells)
        else:
            text = " ".join(element.get_text(" ", strip=True).split())
        if not text:
            continue
        if element.name[0] == "h" and element.name[1:].isdigit():
            text = "#" * int(element.name[1]) + " " + text
        elif element.name == "li" or _opens_list_item(element):
            text = "- " + text
        lines.append(SourceLine(text))
        if element.name != "tr":
            lines.append(SourceLine(""))
    if not lines:  # no block markup at all: plain text inside <body>
        lines = [SourceLine(t) for t in root.get_text("\n").split("\n")]
    return lines


def _opens_list_item(element) -> bool:
    """'<li><p>text</p></li>': the item's first paragraph carries its bullet."""
    item = element.find_parent("li")
    return item is not None and item.find(_BLOCK_TAGS) is element
