"""Uploaded reports: safe names, no overwriting, limits, clear refusals, and incremental ingestion that
leaves the index untouched when nothing usable was uploaded."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.errors import EmptyReport, UnreadableReport, UnsupportedFormat, UploadRejected
from rag.index.versions import live_version
from rag.ingest.upload import MEGABYTE, safe_filename, store_upload, store_uploads
from rag.web import html as ui_render

REPORT = """# Barnet: Inspection of services for children in need of help and protection

Inspection dates: 1 March 2016 to 24 March 2016. Report published: 20 May 2016.

## Summary

The London Borough of Barnet has opened a Family Hub in each locality. The Family Hub in Barnet helps families
early, before problems escalate, and inspectors found that its support prevents children needing social care.
"""


def _file(folder: Path, name: str, text: str = REPORT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name, safe", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("/abs/path/Report.PDF", "Report.pdf"),
    ("Ofsted report (Café) 2015.docx", "Ofsted-report-Cafe-2015.docx"),
    ("  spaced   name .txt", "spaced-name.txt"),
    (".hidden.txt", "hidden.txt"),
    ("..", "report"),
    ("报告.html", "report.html"),
    ("a" * 300 + ".md", "a" * 100 + ".md"),
])
def test_safe_filename(name, safe):
    assert safe_filename(name) == safe


def test_a_path_trick_is_stored_inside_the_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    stored = store_upload(_file(tmp_path / "up", "x.txt"), "../../etc/passwd.txt", corpus, max_bytes=MEGABYTE)
    assert stored.path == corpus / "passwd.txt" and stored.path.read_text() == REPORT
    assert stored.authority == "Barnet"
    assert not (tmp_path / "etc").exists()


def test_spaces_and_unicode_get_a_plain_name(tmp_path):
    corpus = tmp_path / "corpus"
    stored = store_upload(_file(tmp_path / "up", "x.md"), "Rapport été 2016.md", corpus, max_bytes=MEGABYTE)
    assert stored.path.name == "Rapport-ete-2016.md" and stored.original == "Rapport été 2016.md"


def test_a_taken_name_gets_a_suffix_and_the_old_file_is_kept(tmp_path):
    corpus = tmp_path / "corpus"
    existing = _file(corpus, "barnet.md", "the original bytes\n")
    stored = store_upload(_file(tmp_path / "up", "barnet.md"), "barnet.md", corpus, max_bytes=MEGABYTE)
    assert stored.path.name == "barnet-2.md" and stored.renamed
    assert existing.read_text() == "the original bytes\n"
    third = store_upload(_file(tmp_path / "up2", "barnet.md", REPORT + "\nMore.\n"), "barnet.md", corpus,
                         max_bytes=MEGABYTE)
    assert third.path.name == "barnet-3.md"


def test_the_same_report_twice_is_refused(tmp_path):
    corpus = tmp_path / "corpus"
    _file(corpus, "first.md")
    with pytest.raises(UploadRejected, match="already in the corpus as first.md"):
        store_upload(_file(tmp_path / "up", "other.md"), "other.md", corpus, max_bytes=MEGABYTE)


def test_too_large_is_refused_with_the_limit(tmp_path):
    with pytest.raises(UploadRejected, match=r"limit is 0\.0 MB.*RAG_MAX_FILE_MB"):
        store_upload(_file(tmp_path / "up", "big.md"), "big.md", tmp_path / "corpus", max_bytes=10)
    assert not (tmp_path / "corpus").exists()


@pytest.mark.parametrize("name", ["virus.exe", "notes", "data.csv", "catalog.toml"])
def test_an_unsupported_type_is_refused_naming_the_supported_ones(tmp_path, name):
    with pytest.raises(UnsupportedFormat, match="PDF.*DOCX.*HTML"):
        store_upload(_file(tmp_path / "up", "f"), name, tmp_path / "corpus", max_bytes=MEGABYTE)


@pytest.mark.parametrize("name, data, error", [
    ("broken.pdf", b"%PDF-1.4 not really a pdf", UnreadableReport),
    ("binary.txt", bytes(range(256)) * 8, UnreadableReport),
    ("broken.docx", b"PK\x03\x04 not a zip", UnreadableReport),
    ("empty.md", b"", EmptyReport),
])
def test_an_unreadable_file_is_refused_and_not_stored(tmp_path, name, data, error):
    source = tmp_path / "up" / "f"
    source.parent.mkdir()
    source.write_bytes(data)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with pytest.raises(error, match=name.replace(".", r"\.")):
        store_upload(source, name, corpus, max_bytes=MEGABYTE)
    assert list(corpus.iterdir()) == []


def test_store_uploads_reports_each_file(tmp_path):
    corpus = tmp_path / "corpus"
    stored, rejected = store_uploads([(_file(tmp_path / "a", "ok.md"), "ok.md"),
                                      (_file(tmp_path / "b", "bad.exe"), "bad.exe"),
                                      (tmp_path / "gone.md", "gone.md")], corpus, max_bytes=MEGABYTE)
    assert [s.path.name for s in stored] == ["ok.md"]
    assert [r.original for r in rejected] == ["bad.exe", "gone.md"]
    assert "could not be stored" in rejected[1].reason
    html = ui_render.upload_message(stored, rejected)
    assert "Added <b>ok.md</b>" in html and "bad.exe" in html


def test_file_names_are_escaped_in_the_message(tmp_path):
    from rag.ingest.upload import RejectedUpload
    html = ui_render.upload_message([], [RejectedUpload("<img src=x onerror=alert(1)>.exe", "<b>no</b>")])
    assert "<img" not in html and "<b>no" not in html


# ---- through the web app: ingested at once, or nothing changes ------------------------------------------------

@pytest.fixture
def small_site(default_settings, tmp_path):
    """A private corpus (the default reports) and a copy of the session index, so ingesting reuses its vectors."""
    from rag.assistant import Assistant
    from rag.web.handlers import WebApp
    corpus = tmp_path / "corpus"
    shutil.copytree(default_settings.corpus, corpus)
    index = tmp_path / "index"
    shutil.copytree(default_settings.index, index, ignore=shutil.ignore_patterns(".lock"))
    settings = default_settings.replace(corpus=corpus, index=index, max_file_mb=1)
    return WebApp(settings, Assistant(settings, engine="extractive"), export_dir=tmp_path / "exports")


@pytest.mark.slow
def test_an_upload_is_ingested_and_answerable_without_a_restart(small_site, tmp_path):
    web = small_site
    before = live_version(web.settings.index)
    assert "Barnet" not in web.authorities()
    steps: list[tuple[str, int, int]] = []
    view = web.upload([_file(tmp_path / "up", "Barnet report.md")], progress=lambda *s: steps.append(s))
    assert [s.path.name for s in view.added] == ["Barnet-report.md"] and not view.rejected
    assert live_version(web.settings.index) != before and steps
    assert "Barnet" in web.authorities()
    answer = web.assistant.ask("What does the Family Hub in Barnet do?")
    assert answer.citations and answer.citations[0].report.authority == "Barnet"


def test_an_unreadable_upload_leaves_corpus_and_index_untouched(small_site, tmp_path):
    web = small_site
    before = (live_version(web.settings.index), sorted(p.name for p in web.settings.corpus.iterdir()))
    bad = tmp_path / "up" / "report.pdf"
    bad.parent.mkdir()
    bad.write_bytes(b"%PDF-1.7 truncated")
    big = _file(tmp_path / "up", "big.md", REPORT * 4000)
    view = web.upload([bad, big, _file(tmp_path / "up", "x.zip")])
    assert not view.added and len(view.rejected) == 3
    assert "not a readable PDF" in view.message and "upload limit is 1.0 MB" in view.message
    assert "not supported" in view.message
    assert (live_version(web.settings.index), sorted(p.name for p in web.settings.corpus.iterdir())) == before


def test_no_files_chosen(small_site):
    assert "Choose one or more reports" in small_site.upload([]).message
