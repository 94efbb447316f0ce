"""Storing uploaded reports in the corpus folder safely.

A browser's file name is untrusted: only its last component is kept, reduced to plain ASCII letters,
digits, dots, dashes and underscores, so no upload can leave the corpus folder, hide itself (leading dot)
or replace the catalog. A name already taken gets a numbered suffix; a file whose bytes are already in
the corpus is refused. Every file is parsed before it is stored, so a report that cannot be read never
reaches the corpus (and so never touches the index).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import EmptyReport, ReportError, UnreadableReport, UnsupportedFormat, UploadRejected
from rag.ingest.corpus import copy_of, corpus_files, parse_report, relative_name
from rag.ingest.readers import SUPPORTED
from rag.records import Report

MEGABYTE = 1024 * 1024         # RAG_MAX_FILE_MB counts these, as Gradio's max_file_size does
MAX_NAME_LENGTH = 100          # characters of the stem kept; long enough to recognise, short for any filesystem
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StoredUpload:
    original: str              # the name the browser sent
    path: Path                 # where the report now lives in the corpus
    renamed: bool              # the safe name was taken, so a suffix was added
    authority: str | None      # what parsing found, to tell the user
    title: str
    report: Report | None = field(default=None, repr=False, compare=False)   # as parsed, for duplicate checks


@dataclass(frozen=True)
class RejectedUpload:
    original: str
    reason: str                # a sentence the user can act on


def safe_filename(name: str) -> str:
    """'../../etc/passwd.txt' -> 'passwd.txt'; 'Ofsted Report (Café).PDF' -> 'Ofsted-Report-Cafe.pdf'."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = suffix, ""
    stem = _UNSAFE.sub("-", stem).strip(".-_")[:MAX_NAME_LENGTH].strip(".-_") or "report"
    suffix = _UNSAFE.sub("", suffix).lower()
    return f"{stem}.{suffix}" if suffix else stem


def check_type(name: str) -> None:
    suffix = Path(safe_filename(name)).suffix.lower()
    if suffix not in SUPPORTED:
        kinds = ", ".join(s.lstrip(".").upper() for s in SUPPORTED)
        shown = f"'{suffix}' files are" if suffix else "files without an extension are"
        raise UnsupportedFormat(f"{name}: {shown} not supported; upload one of {kinds}.")


def store_upload(source: Path, name: str, corpus_dir: Path, *, max_bytes: int,
                 indexed: Sequence[Report] = ()) -> StoredUpload:
    """Check one uploaded file and copy it into the corpus. Raises a ReportError (type, content) or
    UploadRejected (size, duplicate: the same bytes as a corpus file, or the same paragraphs as an
    `indexed` report); in every failing case nothing is written to the corpus."""
    check_type(name)
    size = source.stat().st_size
    if size > max_bytes:
        raise UploadRejected(f"{name} is {_megabytes(size)}; the upload limit is {_megabytes(max_bytes)} "
                             f"(RAG_MAX_FILE_MB).")
    if size == 0:
        raise EmptyReport(f"{name}: the file is empty.")
    data = source.read_bytes()
    same = _same_content(corpus_dir, data)
    if same is not None:
        raise UploadRejected(f"{name} is already in the corpus as {same}; it was not added again.")
    report = _parse_staged(data, safe_filename(name), name)
    original = copy_of(report, indexed)
    if original is not None:
        raise UploadRejected(f"{name} is the same report as {original.file} (its paragraphs match), which is "
                             f"already in the corpus; it was not added again.")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    path, renamed = _write_new(corpus_dir, safe_filename(name), data)
    return StoredUpload(name, path, renamed, report.authority, report.title, report)


def store_uploads(files: Sequence[tuple[Path, str]], corpus_dir: Path, *, max_bytes: int,
                  indexed: Sequence[Report] = ()) -> tuple[list[StoredUpload], list[RejectedUpload]]:
    """(source path, browser name) pairs -> what was stored and what was refused, with reasons.
    `indexed`: the reports already in the index, so a copy of one in another format is refused."""
    stored: list[StoredUpload] = []
    rejected: list[RejectedUpload] = []
    for source, name in files:
        try:
            known = [*indexed, *(s.report for s in stored if s.report is not None)]
            stored.append(store_upload(Path(source), name, corpus_dir, max_bytes=max_bytes, indexed=known))
        except (ReportError, UploadRejected) as e:
            rejected.append(RejectedUpload(name, str(e)))
        except OSError as e:     # the temporary upload vanished, the corpus folder is read-only, ...
            rejected.append(RejectedUpload(name, f"{name} could not be stored: {e.strerror or e}."))
    return stored, rejected


def remove_stored(stored: Sequence[StoredUpload]) -> None:
    """Undo store_uploads (when ingestion then fails), so the corpus matches the index again."""
    for item in stored:
        item.path.unlink(missing_ok=True)


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.1f} MB"


def _same_content(corpus_dir: Path, data: bytes) -> str | None:
    """The corpus file with exactly these bytes; only files of the same size are hashed."""
    if not corpus_dir.is_dir():
        return None
    digest = hashlib.sha256(data).hexdigest()
    for path in corpus_files(corpus_dir):
        if path.stat().st_size == len(data) and hashlib.sha256(path.read_bytes()).hexdigest() == digest:
            return relative_name(corpus_dir, path)
    return None


def _parse_staged(data: bytes, safe_name: str, shown_name: str):
    """Parse the bytes under their safe name in a private folder, exactly as ingestion will."""
    with tempfile.TemporaryDirectory(prefix="rag-upload-") as folder:
        staged = Path(folder) / safe_name
        staged.write_bytes(data)
        try:
            return parse_report(staged)
        except ReportError as e:
            reason = str(e).removeprefix(f"{safe_name}: ").removeprefix(f"{safe_name} ")
            raise type(e)(f"{shown_name}: {reason}") from None
        except Exception as e:  # a parser bug on an odd file: refuse the file, keep the app running
            raise UnreadableReport(f"{shown_name} could not be read ({type(e).__name__}: {e}).") from None


def _write_new(corpus_dir: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """Write under `name`, or name-2, name-3, ... if taken. The file appears whole (written to a hidden
    temporary file first) and an existing file is never replaced (link fails if the name exists)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    fd, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=corpus_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        n = 1
        while True:
            target = corpus_dir / (name if n == 1 else f"{stem}-{n}{suffix}")
            try:
                _place(Path(temporary), target)
                return target, n > 1
            except FileExistsError:
                n += 1
    finally:
        Path(temporary).unlink(missing_ok=True)


def _place(temporary: Path, target: Path) -> None:
    try:
        os.link(temporary, target)         # atomic, and refuses an existing name
    except FileExistsError:
        raise
    except OSError:                        # a filesystem without hard links: exclusive create instead
        with open(target, "xb") as out, open(temporary, "rb") as source:
            shutil.copyfileobj(source, out)
