"""Reading a corpus: every file -> a Report with its citable Paragraphs and Judgements (rag.index.builder
then writes them to the index).

A file that cannot be read is reported with its reason and skipped; it never stops the others.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path

from rag.errors import DuplicateReport, EmptyReport, ReportError
from rag.ingest.chunking import CHUNKING_VERSION, chunk
from rag.ingest.cleaning import classify_lines, clean_inline, contents_entries
from rag.ingest.readers import SUPPORTED, document_date, read_source
from rag.ofsted import judgements
from rag.ofsted.authorities import find_authorities_in_text
from rag.ofsted.metadata import apply_catalog, detect, load_catalog
from rag.progress import Progress
from rag.records import Paragraph, Report

PIPELINE_VERSION = f"{CHUNKING_VERSION}+meta-5"
PARALLEL_MIN_JOBS = 24       # fewer reports are parsed in-process: starting worker processes costs about 2 s


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
    """Every file under the corpus folder, sub-folders included, but hidden files and folders and the
    catalog; sorted by relative path (so ids are assigned in a stable order)."""
    if not corpus_dir.is_dir():
        return []
    found = []
    for path in corpus_dir.rglob("*"):
        relative = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in relative.parts) or relative.as_posix() == "catalog.toml":
            continue
        if path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(corpus_dir).as_posix())


def relative_name(corpus_dir: Path, path: Path) -> str:
    """A report file's identity: its path inside the corpus ('80426_barnsley/report.pdf'), since one
    authority's folder may hold a file named like another's."""
    try:
        return path.relative_to(corpus_dir).as_posix()
    except ValueError:
        return path.name


def parse_report(path: Path, catalog_entry: dict[str, str] | None = None, report_id: str | None = None,
                 max_bytes: int | None = None, sha256: str | None = None, name: str | None = None) -> Report:
    """sha256: the file's digest when the caller has it already (parse_corpus hashes every file first);
    name: the file's name in the corpus (its relative path), by default its own name."""
    name = name or path.name
    source = read_source(path, max_bytes)   # checks the size before reading
    chunks = chunk(classify_lines(source), contents_entries(source))
    if not chunks:
        raise EmptyReport(f"{path.name}: no paragraphs of text were found; download or export the report again.")
    full_text = "\n".join(clean_inline(line.text) for line in source)    # markup and LaTeX out, as for paragraphs
    meta = apply_catalog(detect(full_text, find_authorities_in_text, document_date(path)), catalog_entry)
    rid = report_id or make_report_id(meta.authority, meta.year, meta.report_type, path)
    paragraphs = _paragraphs(rid, chunks)
    found, notes = judgements.extract(rid, meta.authority, meta.date, meta.report_type, paragraphs, meta.variant)
    return Report(
        id=rid, file=name, sha256=sha256 or _sha256(path), title=meta.title,
        authority=meta.authority, report_type=meta.report_type, date=meta.date, year=meta.year,
        inspection_start=meta.inspection_start, inspection_end=meta.inspection_end, published=meta.published,
        confidence=meta.confidence, notes=meta.notes + tuple(notes), paragraphs=tuple(paragraphs),
        judgements=tuple(found), variant=meta.variant, lead_inspector=meta.lead_inspector)


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


def parse_corpus(corpus_dir: Path, progress: Progress | None = None, previous: dict[str, Report] | None = None,
                 max_bytes: int | None = None, workers: int | None = None,
                 on_plan: Callable[[int], None] | None = None,
                 on_report: Callable[[Report, int, int], None] | None = None) -> ParsedCorpus:
    """Parse every report; `previous` (relative name -> Report from the live index) lets an unchanged file
    (same bytes, no catalog entry then or now) be reused instead of parsed again. Reports are parsed in
    `workers` processes (default: one per core) when there are several.

    One bad file never costs the others or the index: it is skipped with its reason, and when it was
    readable before (it has been replaced by a broken copy) its indexed version is kept. A copy of a
    report already in the corpus (same bytes, or the same paragraphs in another format) is skipped.

    on_plan(reports to read) is called before reading; on_report(report, done, total) for each report read
    or reused, as it comes (to embed it while the next ones are read)."""
    previous = previous or {}
    catalog, warnings = load_catalog(corpus_dir)
    files = {relative_name(corpus_dir, path): path for path in corpus_files(corpus_dir)}
    # Files already indexed come first, so a new copy of an indexed report is the one called a duplicate.
    order = sorted(files, key=lambda name: (name not in previous, name))
    skipped: dict[str, Skipped] = {}
    digests: dict[str, str] = {}
    for name in order:
        if files[name].suffix.lower() not in SUPPORTED:
            skipped[name] = Skipped(name, f"unsupported file type '{files[name].suffix or '(none)'}'; convert it to "
                                          f"one of {', '.join(SUPPORTED)} or move it out of the corpus")
            continue
        try:
            digests[name] = _sha256(files[name])
        except OSError as e:
            skipped[name] = Skipped(name, f"cannot be read ({e.strerror}); check its permissions")
    reusable = {name for name, digest in digests.items() if _reusable(previous.get(name), name, digest, catalog)}
    to_parse = [name for name in order if name in digests and name not in reusable]
    if on_plan:
        on_plan(len(to_parse))
    for done, name in enumerate(sorted(reusable), start=1):
        if on_report:
            on_report(previous[name], done, len(digests))

    def each(report: object, done: int) -> None:
        if on_report and isinstance(report, Report):
            on_report(report, len(reusable) + done, len(digests))
    parsed = _parse_all([(files[n], catalog.get(n), max_bytes, digests[n], n) for n in to_parse],
                        None if on_report else progress, workers, each)
    reports: list[Report] = []
    by_hash: dict[str, str] = {}
    for name in order:
        if name not in digests:
            continue
        old = previous.get(name)
        outcome = old if name in reusable else parsed[name]
        try:
            if isinstance(outcome, Exception):
                raise outcome       # a copy of a broken file is broken too: say what is wrong with it
            if digests[name] in by_hash:
                raise DuplicateReport(f"the same file as {by_hash[digests[name]]}, so it is not indexed twice; "
                                      f"delete one of them.")
            by_hash[digests[name]] = name
            original = copy_of(outcome, reports)
            if original is not None:
                raise DuplicateReport(f"the same report as {original.file} (its paragraphs match), so it is not "
                                      f"indexed twice; delete one of them.")
            reports.append(outcome)
        except DuplicateReport as e:
            skipped[name] = Skipped(name, str(e))
        except Exception as e:  # noqa: BLE001 - a parser bug on one odd file must not stop the corpus
            reason = (str(e).removeprefix(f"{files[name].name}: ") if isinstance(e, ReportError)
                      else f"could not be parsed ({type(e).__name__}: {e})")
            if old is not None:
                reports.append(old)
                reason += f" (the version indexed before, {old.id}, is kept until the file is fixed or removed)"
            skipped[name] = Skipped(name, reason)
    warnings += [f"catalog.toml names {name}, which is not in {corpus_dir}." for name in sorted(set(catalog) - set(files))]
    reports.sort(key=lambda r: r.file)      # ids are assigned in file-name order, whatever was read first
    return ParsedCorpus(tuple(_unique_ids(reports)), tuple(sorted(skipped.values(), key=lambda s: s.file)),
                        tuple(warnings))


def _reusable(old: Report | None, name: str, digest: str, catalog: dict) -> bool:
    """An indexed report whose file is byte for byte the same, and no catalog entry then or now."""
    return (old is not None and name not in catalog and not any("catalog" in n for n in old.notes)
            and digest == old.sha256)


def _parse_one(job: tuple) -> Report | Exception:
    """parse_report, with its failure as the value (it crosses a process boundary)."""
    path, entry, max_bytes, digest, name = job
    try:
        return parse_report(path, entry, max_bytes=max_bytes, sha256=digest, name=name)
    except Exception as e:  # noqa: BLE001 - reported per file by parse_corpus
        return e


def _parse_all(jobs: list[tuple], progress: Progress | None, workers: int | None,
               each: Callable[[object, int], None]) -> dict[str, object]:
    """Relative name -> Report or the exception that stopped it, parsing in processes when it pays; each
    outcome goes to `each` as it comes."""
    workers = workers or os.cpu_count() or 1
    results: dict[str, object] = {}

    def done(name: str, outcome: object) -> None:
        results[name] = outcome
        each(outcome, len(results))
        if progress:
            progress("reading reports", len(results), len(jobs))

    if workers == 1 or len(jobs) < PARALLEL_MIN_JOBS:
        for job in jobs:
            done(job[4], _parse_one(job))
        return results
    # fork is quick and needs no `if __name__ == "__main__"` in a user's script, but is unsafe in a process
    # with other threads (a web app): spawn there. A pool that breaks leaves the rest to this process.
    context = get_context("fork" if threading.active_count() == 1 else "spawn")
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
            futures = {pool.submit(_parse_one, job): job for job in jobs}
            for future in as_completed(futures):      # in the order they finish: embed one while others read
                done(futures[future][4], future.result())
    except BrokenProcessPool:
        for job in jobs:
            if job[4] not in results:
                done(job[4], _parse_one(job))
    return results


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
