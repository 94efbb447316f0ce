"""Reading a corpus: every file -> a Report with its citable Paragraphs and Judgements (rag.index.builder
then writes them to the index).

A file that cannot be read is reported with its reason and skipped; it never stops the others.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rag.errors import DuplicateReport, EmptyReport, ReportError
from rag.ingest.chunking import CHUNKING_VERSION, chunk
from rag.ingest.cleaning import classify_lines, contents_entries
from rag.ingest.readers import SUPPORTED, read_source
from rag.ofsted import judgements
from rag.ofsted.authorities import find_authorities_in_text
from rag.ofsted.metadata import apply_catalog, detect, load_catalog
from rag.progress import Progress
from rag.records import Paragraph, Report

PIPELINE_VERSION = f"{CHUNKING_VERSION}+meta-1"


@dataclass(frozen=True)
class Skipped:
    file: str
    reason: str


@dataclass(frozen=True)
class ParsedCorpus:
    reports: tuple[Report, ...]
    skipped: tuple[Skipped, ...]
    warnings: tuple[str, ...]


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file that is not hidden or the catalog, sorted (so ids are assigned in a stable order)."""
    if not corpus_dir.is_dir():
        return []
    return sorted(p for p in corpus_dir.iterdir()
                  if p.is_file() and not p.name.startswith(".") and p.name != "catalog.toml")


def parse_report(path: Path, catalog_entry: dict[str, str] | None = None, report_id: str | None = None,
                 max_bytes: int | None = None, sha256: str | None = None) -> Report:
    """sha256: the file's digest when the caller has it already (parse_corpus hashes every file first)."""
    source = read_source(path, max_bytes)   # checks the size before reading
    chunks = chunk(classify_lines(source), contents_entries(source))
    if not chunks:
        raise EmptyReport(f"{path.name}: no paragraphs of text were found; download or export the report again.")
    full_text = "\n".join(line.text for line in source)
    meta = apply_catalog(detect(full_text, find_authorities_in_text), catalog_entry)
    rid = report_id or make_report_id(meta.authority, meta.year, meta.report_type, path)
    paragraphs = _paragraphs(rid, chunks)
    found, notes = judgements.extract(rid, meta.authority, meta.date, meta.report_type, paragraphs)
    return Report(
        id=rid, file=path.name, sha256=sha256 or _sha256(path), title=meta.title,
        authority=meta.authority, report_type=meta.report_type, date=meta.date, year=meta.year,
        inspection_start=meta.inspection_start, inspection_end=meta.inspection_end, published=meta.published,
        confidence=meta.confidence, notes=meta.notes + tuple(notes), paragraphs=tuple(paragraphs),
        judgements=tuple(found))


def make_report_id(authority: str | None, year: int | None, report_type: str, path: Path) -> str:
    base = slug(authority) if authority else slug(path.stem)
    return f"{base}-{year}" if year else base


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "report"


def _paragraphs(report_id: str, chunks) -> list[Paragraph]:
    """Ids come from the report id and the paragraph's own text, so an unchanged report keeps its ids."""
    out: list[Paragraph] = []
    used: set[str] = set()
    for ordinal, c in enumerate(chunks):
        digest = hashlib.sha1(c.text.encode("utf-8")).hexdigest()[:8]
        pid, n = f"{report_id}:{digest}", 2
        while pid in used:                       # the same sentence twice in one report
            pid, n = f"{report_id}:{digest}-{n}", n + 1
        used.add(pid)
        out.append(Paragraph(id=pid, report=report_id, ordinal=ordinal, text=c.text, original=c.original,
                             headings=c.headings, number=c.number, page=c.page, kind=c.kind, lead_in=c.lead_in))
    return out


def parse_corpus(corpus_dir: Path, progress: Progress | None = None,
                 previous: dict[str, Report] | None = None, max_bytes: int | None = None) -> ParsedCorpus:
    """Parse every report; `previous` (file name -> Report from the live index) lets an unchanged file
    (same bytes, no catalog entry then or now) be reused instead of parsed again.

    One bad file never costs the others or the index: it is skipped with its reason, and when it was
    readable before (it has been replaced by a broken copy) its indexed version is kept. A copy of a
    report already in the corpus (same bytes, or the same paragraphs in another format) is skipped."""
    previous = previous or {}
    catalog, warnings = load_catalog(corpus_dir)
    files = corpus_files(corpus_dir)
    reports: list[Report] = []
    skipped: list[Skipped] = []
    by_hash: dict[str, str] = {}
    # Files already indexed come first, so a new copy of an indexed report is the one called a duplicate.
    for done, path in enumerate(sorted(files, key=lambda p: (p.name not in previous, p.name)), start=1):
        if progress:
            progress(f"reading {path.name}", done, len(files))
        if path.suffix.lower() not in SUPPORTED:
            skipped.append(Skipped(path.name, f"unsupported file type '{path.suffix or '(none)'}'; convert it "
                                              f"to one of {', '.join(SUPPORTED)} or move it out of the corpus"))
            continue
        old = previous.get(path.name)
        try:
            digest = _sha256(path)
            if digest in by_hash:
                raise DuplicateReport(f"{path.name}: the same file as {by_hash[digest]}, so it is not indexed "
                                      f"twice; delete one of them.")
            by_hash[digest] = path.name
            if old is not None and path.name not in catalog and not any("catalog" in n for n in old.notes) \
                    and digest == old.sha256:
                report = old
            else:
                report = parse_report(path, catalog.get(path.name), max_bytes=max_bytes, sha256=digest)
            original = copy_of(report, reports)
            if original is not None:
                raise DuplicateReport(f"{path.name}: the same report as {original.file} (its paragraphs match), "
                                      f"so it is not indexed twice; delete one of them.")
            reports.append(report)
        except DuplicateReport as e:
            skipped.append(Skipped(path.name, str(e).removeprefix(f"{path.name}: ")))
        except Exception as e:  # noqa: BLE001 - a parser bug on one odd file must not stop the corpus
            reason = (str(e).removeprefix(f"{path.name}: ") if isinstance(e, ReportError)
                      else f"could not be parsed ({type(e).__name__}: {e})")
            if old is not None:
                reports.append(old)
                reason += f" (the version indexed before, {old.id}, is kept until the file is fixed or removed)"
            skipped.append(Skipped(path.name, reason))
    unknown = sorted(set(catalog) - {p.name for p in files})
    warnings += [f"catalog.toml names {name}, which is not in {corpus_dir}." for name in unknown]
    reports.sort(key=lambda r: r.file)      # ids are assigned in file-name order, whatever was read first
    return ParsedCorpus(tuple(_unique_ids(reports)), tuple(sorted(skipped, key=lambda s: s.file)), tuple(warnings))


def copy_of(report: Report, others: Sequence[Report]) -> Report | None:
    """The report among `others` that `report` copies: the same report saved in another format or
    encoding has other bytes but the same paragraphs (90% of them, allowing for extraction noise)."""
    mine = {p.text for p in report.paragraphs}
    for other in others:
        if other.authority != report.authority:
            continue
        theirs = {p.text for p in other.paragraphs}
        if len(mine & theirs) >= 0.9 * max(len(mine), len(theirs)):
            return other
    return None


def _unique_ids(reports: list[Report]) -> list[Report]:
    """Two reports of one authority and year: the second gets its type, then a counter, in its id."""
    seen: set[str] = set()
    out: list[Report] = []
    for report in reports:
        rid = report.id
        if rid in seen:
            rid = f"{report.id}-{report.report_type.split('_')[-1]}"
        n = 2
        while rid in seen:
            rid, n = f"{report.id}-{n}", n + 1
        seen.add(rid)
        if rid != report.id:
            report = _renamed(report, rid)
        out.append(report)
    return out


def _renamed(report: Report, rid: str) -> Report:
    mapping = {p.id: p.id.replace(report.id + ":", rid + ":", 1) for p in report.paragraphs}
    paragraphs = tuple(replace(p, id=mapping[p.id], report=rid) for p in report.paragraphs)
    found = tuple(replace(j, report=rid, paragraph_id=mapping[j.paragraph_id]) for j in report.judgements)
    return replace(report, id=rid, paragraphs=paragraphs, judgements=found)


def _sha256(path: Path) -> str:
    """Streamed, so a huge file is hashed in bounded memory (read_source then refuses it by size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
