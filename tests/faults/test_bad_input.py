"""Bad files in the corpus: each is skipped with a message naming it and saying what to do, the good ones
are ingested, and nothing already indexed is lost. Also the same files through the web app's upload."""
from __future__ import annotations

import io
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import pymupdf
import pytest

from rag.cli import main as cli
from rag.index.builder import ingest
from rag.index.embedding import HashingEmbedder
from rag.index.reader import Index
from rag.index.versions import live_version
from rag.ingest.corpus import parse_corpus
from rag.ingest.readers import read_source
from rag.ingest.upload import store_uploads
from tests.conftest import CORPUS, SEEDS

EMBEDDER = HashingEmbedder(64)
QUERIES = ("adoption timeliness", "private fostering", "children in need of help and protection")
MB = 1024 * 1024
LIMIT = 25 * MB                       # the default RAG_MAX_FILE_MB

# file name -> (what the message must say is wrong, what it must say to do)
EXPECTED = {
    "empty.txt": ("the file is empty", "download or export the report again"),
    "whitespace.txt": ("blank (only whitespace)", "download or export the report again"),
    "photo.txt": ("binary file, not text", "give it its real extension"),
    "huge.txt": ("50.0 MB is over the 25 MB limit", "RAG_MAX_FILE_MB"),
    "encrypted.pdf": ("password-protected", "save a copy without a password"),
    "corrupt.pdf": ("not a readable PDF", "download it again"),
    "error-page.pdf": ("not a PDF", "download it again"),
    "error-page (2).pdf": ("not a PDF", "download it again"),     # a copy of a broken file is no duplicate
    "scanned.pdf": ("no text could be extracted", "run OCR on it first"),
    "spreadsheet-inside.docx": ("not a readable Word document", "save it again as .docx"),
    "old-word.docx": ("an old Word .doc file", "save it as .docx"),
    "budget.xlsx": ("unsupported file type '.xlsx'", "convert it to one of"),
    "copy of H&F report.txt": ("the same file as", "delete one of them"),
    "hf-2011 (windows).md": ("the same report as", "delete one of them"),
}


def _text_pdf(text: str, **save) -> bytes:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), text)
    return doc.tobytes(**save)


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def add_bad_files(corpus: Path) -> None:
    hf = (CORPUS / SEEDS["hammersmith-and-fulham-2011"]).read_text(encoding="utf-8")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "whitespace.txt").write_text("  \n\t\n\n   \n", encoding="utf-8")
    (corpus / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    with open(corpus / "huge.txt", "wb") as handle:     # 50 MB of plausible text
        line = b"Social workers visit children regularly and record their wishes and feelings.\n"
        handle.write(line * (50 * MB // len(line)))
        handle.write(b"x" * (50 * MB - handle.tell()))
    (corpus / "encrypted.pdf").write_bytes(_text_pdf("Testshire children's services are good.",
                                                     encryption=pymupdf.PDF_ENCRYPT_AES_256,
                                                     user_pw="secret", owner_pw="owner"))
    whole = _text_pdf("Testshire children's services are good.")
    (corpus / "corrupt.pdf").write_bytes(whole[: len(whole) // 2])
    (corpus / "error-page.pdf").write_bytes(b"<html><body><h1>404 Not Found</h1></body></html>")
    (corpus / "error-page (2).pdf").write_bytes(b"<html><body><h1>404 Not Found</h1></body></html>")
    scan = pymupdf.open()
    scan.new_page().draw_rect(pymupdf.Rect(50, 50, 300, 300), color=(0, 0, 0), fill=(0.4, 0.4, 0.4))
    scan.save(corpus / "scanned.pdf")
    (corpus / "spreadsheet-inside.docx").write_bytes(_zip({"data.csv": "area,grade\nadoption,good\n"}))
    (corpus / "old-word.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    (corpus / "budget.xlsx").write_bytes(_zip({"xl/workbook.xml": "<workbook/>"}))
    # The H&F report again: byte for byte under another name, and re-saved as Windows-1252 Markdown.
    shutil.copy(CORPUS / SEEDS["hammersmith-and-fulham-2011"], corpus / "copy of H&F report.txt")
    (corpus / "hf-2011 (windows).md").write_bytes(hf.replace("\n", "\r\n").encode("cp1252"))


@pytest.fixture()
def indexed(tmp_path):
    """A corpus of two seed reports, indexed, and what searching it returned."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for seed in ("hammersmith-and-fulham-2011", "hillingdon-2017"):
        shutil.copy(CORPUS / SEEDS[seed], corpus / SEEDS[seed])
    ingest(corpus, index, EMBEDDER)
    return corpus, index, _snapshot(index)


def _snapshot(index_dir: Path, reports: tuple[str, ...] = ("hammersmith-and-fulham-2011", "hillingdon-2017")) -> dict:
    """The given reports' paragraph ids, and the paragraphs a dense search finds among them."""
    index = Index.load(index_dir, embedder_name=EMBEDDER.name, pipeline_version=None)
    rows = index.rows_for_reports([r for r in reports if r in index.reports])
    found = {q: [index.paragraphs[row].id for row, _ in index.dense_search(EMBEDDER.embed([q])[0], 5, rows)]
             for q in QUERIES}
    return {"paragraphs": {r.id: [p.id for p in r.paragraphs] for r in index.reports.values() if r.id in reports},
            "searches": found}


def test_every_bad_file_is_skipped_with_what_to_do_and_nothing_indexed_is_lost(indexed, capsys, monkeypatch):
    corpus, index, before = indexed
    add_bad_files(corpus)
    # A good new report in Windows-1252 (curly quotes, £) under a name with spaces and unicode.
    wandsworth = (CORPUS / SEEDS["wandsworth-2015"]).read_text(encoding="utf-8")
    wandsworth += "\n\nThe council spent £1.2 million on its “edge of care” service in 2014–15.\n"
    (corpus / "Wandsworth inspection – Café ‘2015’.txt").write_bytes(wandsworth.encode("cp1252"))

    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing-64")
    code = cli.main(["ingest", "--corpus", str(corpus), "--index", str(index)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Traceback" not in out.out + out.err
    for name, (wrong, todo) in EXPECTED.items():      # each skipped file is named with its reason and remedy
        line = next((x for x in (out.out + out.err).splitlines() if name in x), "")
        assert wrong in line and todo in line, (name, line)

    assert _snapshot(index) == before                        # nothing indexed is lost or changed
    after = Index.load(index, embedder_name=EMBEDDER.name, pipeline_version=None)
    assert set(after.reports) == set(before["paragraphs"]) | {"wandsworth-2015"}   # nothing indexed twice
    new = after.reports["wandsworth-2015"]
    assert new.file == "Wandsworth inspection – Café ‘2015’.txt"
    assert any("£1.2 million on its “edge of care” service" in p.text for p in new.paragraphs)


def test_a_bad_corpus_changes_nothing_when_nothing_good_is_new(indexed):
    corpus, index, before = indexed
    version = live_version(index)
    add_bad_files(corpus)
    result = ingest(corpus, index, EMBEDDER, max_bytes=LIMIT)
    assert {s.file for s in result.corpus.skipped} == set(EXPECTED)
    assert live_version(index) == version                    # the same reports: nothing rewritten
    assert _snapshot(index) == before


def test_an_indexed_report_replaced_by_a_broken_copy_keeps_its_indexed_version(indexed):
    corpus, index, before = indexed
    seed = corpus / SEEDS["hillingdon-2017"]
    seed.write_bytes(b"\x00\x01\x02 truncated download")
    result = ingest(corpus, index, EMBEDDER, max_bytes=LIMIT)
    (skipped,) = result.corpus.skipped
    assert skipped.file == seed.name
    assert "binary file" in skipped.reason and "hillingdon-2017, is kept" in skipped.reason
    assert _snapshot(index) == before
    seed.unlink()                                            # removing the file does remove the report
    ingest(corpus, index, EMBEDDER, max_bytes=LIMIT)
    assert set(Index.load(index, embedder_name=None, pipeline_version=None).reports) == {"hammersmith-and-fulham-2011"}


def test_a_huge_file_is_refused_by_size_without_being_read(tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:
        handle.truncate(50 * MB)                              # sparse: 50 MB on paper
    tracemalloc.start()
    try:
        parsed = parse_corpus(tmp_path, max_bytes=LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [s.file for s in parsed.skipped] == ["huge.txt"]
    assert "over the 25 MB limit for one report (RAG_MAX_FILE_MB)" in parsed.skipped[0].reason
    assert peak < 8 * MB                                      # hashed in 1 MB blocks, never read whole


def test_windows_1252_text_is_decoded_not_refused(tmp_path):
    text = "Ofsted said: “Children’s services are good” – spending was £3,400 per child.\n"
    (tmp_path / "note.txt").write_bytes(text.encode("cp1252"))
    assert read_source(tmp_path / "note.txt")[0].text == text.strip()


def test_the_same_bad_files_are_refused_at_upload_and_the_corpus_is_unchanged(tmp_path):
    staging, corpus = tmp_path / "staging", tmp_path / "corpus"
    staging.mkdir()
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS["hammersmith-and-fulham-2011"], corpus / "hf.txt")
    indexed = parse_corpus(corpus).reports
    add_bad_files(staging)
    before = sorted(p.name for p in corpus.iterdir())
    files = [(path, path.name) for path in sorted(staging.iterdir())]
    stored, rejected = store_uploads(files, corpus, max_bytes=LIMIT, indexed=indexed)
    assert stored == []
    assert {r.original for r in rejected} == set(EXPECTED)
    assert all(r.reason.startswith(r.original) or r.original in r.reason for r in rejected)
    assert sorted(p.name for p in corpus.iterdir()) == before


@pytest.mark.parametrize("name, stored_as", [
    ("../../etc/Wandsworth report.txt", "Wandsworth-report.txt"),
    ("..\\..\\Windows\\Café ‘inspection’ 2015.txt", "Cafe-inspection-2015.txt"),
    ("../.catalog.toml.txt", "catalog.toml.txt"),
])
def test_an_upload_name_with_spaces_unicode_and_dotdot_stays_inside_the_corpus(tmp_path, name, stored_as):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = tmp_path / "upload.bin"
    shutil.copy(CORPUS / SEEDS["wandsworth-2015"], source)
    (item,), rejected = store_uploads([(source, name)], corpus, max_bytes=LIMIT)
    assert rejected == []
    assert item.path == corpus / stored_as and item.path.resolve().parent == corpus.resolve()
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(["upload.bin", stored_as])


def test_paths_that_cannot_be_used_are_one_line_messages(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", "hashing-64")
    monkeypatch.setenv("RAG_LLM", "extractive")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS["hillingdon-2017"], corpus / "report.txt")
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x", encoding="utf-8")
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "1", "question": "adoption"}\n', encoding="utf-8")
    assert cli.main(["ingest", "--corpus", str(corpus), "--index", str(tmp_path / "index")]) == 0
    capsys.readouterr()
    runs = {
        ("ingest", "--corpus", str(corpus), "--index", str(a_file)): (2, "is a file, not a folder"),
        ("ask", "adoption", "--index", str(a_file)): (2, "is a file, not a folder"),
        ("ingest", "--corpus", str(tmp_path / "missing")): (1, "No corpus folder"),
        ("batch", str(tmp_path), "--out", str(tmp_path / "out.jsonl")): (2, "cannot be read"),
        ("batch", str(questions), "--out", str(tmp_path / "no" / "such" / "out.jsonl"), "--index",
         str(tmp_path / "index")): (1, "No such file or directory"),
    }
    for args, (code, message) in runs.items():
        assert cli.main(list(args)) == code, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (args, err)
