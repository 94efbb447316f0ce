"""Ingestion of a whole corpus: bad files are skipped with a reason a user can act on and never stop the
others; ids are stable and unique; ingest() writes the parsed paragraphs to the index."""
from __future__ import annotations

import shutil

import pymupdf
import pytest

from rag.errors import EmptyReport
from rag.index.builder import ingest
from rag.index.embedding import HashingEmbedder
from rag.ingest.corpus import PIPELINE_VERSION, corpus_files, make_report_id, parse_corpus, parse_report, slug
from tests.conftest import CORPUS, SEEDS

SEED = "hillingdon-2017"
CP1252_TEXT = ("Sometown Borough Council: children’s services overview – October 2016\n\n"
               "We have improved our children’s services this year. Our social workers see children within 24 hours "
               "of a referral, and 95% of assessments are completed on time. We are proud of our foster carers.\n\n"
               "Our priorities for next year are early help, placement stability and care leavers’ accommodation.\n")


@pytest.fixture()
def bad_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS[SEED], corpus / SEEDS[SEED])
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.md").write_text("\n  \n\t\n", encoding="utf-8")
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    (corpus / "windows.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    (corpus / "garbled.txt").write_bytes(b"Report \x81\x8d\x8f\x90\x9d text " * 20)
    (corpus / "budget.xlsx").write_bytes(b"PK\x03\x04 spreadsheet")
    (corpus / "broken.docx").write_bytes(b"not a word document")
    (corpus / "debris.txt").write_text("Ofsted\n\n_\n\n12\n", encoding="utf-8")
    (corpus / ".hidden.txt").write_text("An editor's backup, not a report.", encoding="utf-8")
    scan = pymupdf.open()
    scan.new_page().draw_rect(pymupdf.Rect(50, 50, 300, 300), color=(0, 0, 0), fill=(0.4, 0.4, 0.4))
    scan.save(corpus / "scan.pdf")
    return corpus


def test_bad_files_are_skipped_with_reasons_and_the_rest_ingests(bad_corpus):
    progress: list[tuple[str, int, int]] = []
    parsed = parse_corpus(bad_corpus, progress=lambda *a: progress.append(a))

    reasons = {s.file: s.reason for s in parsed.skipped}
    assert reasons == {
        "empty.txt": "the file is empty; download or export the report again.",
        "blank.md": "the file is blank (only whitespace); download or export the report again.",
        "image.txt": "looks like a binary file, not text; check it is the report, and give it its real "
                     "extension (.pdf, .docx) if it is one.",
        "garbled.txt": "the text is neither UTF-8 nor Windows-1252; save it as UTF-8.",
        "budget.xlsx": "unsupported file type '.xlsx'; convert it to one of .txt, .md, .pdf, .docx, .html, .htm "
                       "or move it out of the corpus",
        "broken.docx": reasons["broken.docx"],
        "debris.txt": "no paragraphs of text were found; download or export the report again.",
        "scan.pdf": "no text could be extracted; it looks scanned (no text layer): run OCR on it first, "
                    "e.g. ocrmypdf.",
    }
    assert reasons["broken.docx"].startswith("not a readable Word document")

    by_file = {r.file: r for r in parsed.reports}
    assert set(by_file) == {SEEDS[SEED], "windows.txt"}
    seed = by_file[SEEDS[SEED]]
    assert (seed.id, seed.authority, seed.year) == ("hillingdon-2017", "Hillingdon", 2017)
    assert len(seed.paragraphs) > 100
    # Windows-1252 text is read, its curly quotes and dash intact.
    windows = by_file["windows.txt"]
    texts = [p.text for p in windows.paragraphs]
    assert texts[0] == "Sometown Borough Council: children’s services overview – October 2016"
    assert texts[1].startswith("We have improved our children’s services this year.")
    assert "care leavers’ accommodation" in texts[2]
    assert windows.title.startswith("Sometown Borough Council: children’s services overview – October 2016")

    # Nine files read (the hidden one is not a report, the .xlsx is refused unread), one step each.
    assert progress == [("reading reports", n, 9) for n in range(1, 10)]


def test_corpus_files_skip_hidden_files_and_the_catalog(tmp_path):
    for name in ("b.txt", "a.pdf", ".DS_Store", "catalog.toml"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    assert [p.name for p in corpus_files(tmp_path)] == ["a.pdf", "b.txt"]
    assert corpus_files(tmp_path / "missing") == []
    empty = parse_corpus(tmp_path / "missing")
    assert empty.reports == () and empty.skipped == () and empty.warnings == ()


def test_a_parser_crash_on_one_file_does_not_stop_the_others(bad_corpus, monkeypatch):
    import rag.ingest.corpus as ingest_module

    real_chunk = ingest_module.chunk

    def fragile(lines, contents=None):
        if any("Sometown" in line.raw for line in lines):
            raise IndexError("list index out of range")
        return real_chunk(lines, contents)

    monkeypatch.setattr(ingest_module, "chunk", fragile)
    parsed = parse_corpus(bad_corpus)
    reasons = {s.file: s.reason for s in parsed.skipped}
    assert reasons["windows.txt"] == "could not be parsed (IndexError: list index out of range)"
    assert [r.id for r in parsed.reports] == [SEED]


def test_parse_report_raises_for_a_file_without_paragraphs(tmp_path):
    (tmp_path / "only-header.txt").write_text("Ofsted\n\n14\n", encoding="utf-8")
    with pytest.raises(EmptyReport, match="only-header.txt: no paragraphs of text were found."):
        parse_report(tmp_path / "only-header.txt")


def test_two_reports_with_one_authority_and_year_get_distinct_ids(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = (CORPUS / SEEDS["windsor-and-maidenhead-2015"]).read_text(encoding="utf-8").splitlines()
    # Three different documents of one authority and year: the whole report and two shorter extracts.
    for name, share in (("a.txt", 1.0), ("b.txt", 0.6), ("c.txt", 0.3)):
        (corpus / name).write_text("\n".join(lines[:int(len(lines) * share)]), encoding="utf-8")
    parsed = parse_corpus(corpus)
    reports = parsed.reports
    assert not parsed.skipped
    assert [r.id for r in reports] == ["windsor-and-maidenhead-2015", "windsor-and-maidenhead-2015-sif",
                                       "windsor-and-maidenhead-2015-2"]
    for report in reports:
        ids = {p.id for p in report.paragraphs}
        assert all(p.id.startswith(report.id + ":") and p.report == report.id for p in report.paragraphs)
        assert all(j.report == report.id and j.paragraph_id in ids for j in report.judgements)
    assert len(reports[0].paragraphs) > len(reports[1].paragraphs) > len(reports[2].paragraphs)


def test_report_ids_and_slugs(tmp_path):
    assert slug("Windsor and Maidenhead") == "windsor-and-maidenhead"
    assert slug("St. Helens") == "st-helens" and slug("???") == "report"
    assert make_report_id("Hammersmith and Fulham", 2011, "ofsted_slac", tmp_path / "x.txt") == \
        "hammersmith-and-fulham-2011"
    assert make_report_id(None, None, "other", tmp_path / "Annual Report (final).pdf") == "annual-report-final"


def test_ingest_writes_the_parsed_corpus_to_the_index(bad_corpus, tmp_path):
    index = tmp_path / "index"
    result = ingest(bad_corpus, index, HashingEmbedder(32))
    assert {r.file for r in result.corpus.reports} == {SEEDS[SEED], "windows.txt"}
    assert len(result.corpus.skipped) == 8
    assert result.stats.paragraphs == sum(len(r.paragraphs) for r in result.corpus.reports)
    assert result.seconds > 0 and index.is_dir() and any(index.iterdir())
    assert PIPELINE_VERSION.startswith("chunk-")
