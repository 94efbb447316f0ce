"""Metadata read from the text of the five seeds (never from their opaque file names), and the user's
corrections in corpus/catalog.toml."""
from __future__ import annotations

import shutil

import pytest

from rag.ingest.corpus import parse_corpus
from rag.ofsted.authorities import find_authorities_in_text
from rag.ofsted.metadata import Metadata, apply_catalog, detect, load_catalog
from rag.records import REPORT_TYPES
from tests.conftest import CORPUS, SEEDS

EXPECTED = {
    # id: (authority, report type, year, date, inspection start, inspection end, published)
    "hillingdon-2013": ("Hillingdon", "ofsted_sif", 2013, "2013-12-18", "2013-11-25", "2013-12-18", None),
    "hillingdon-2017": ("Hillingdon", "council_overview", 2017, "2017-10", None, None, None),
    "hammersmith-and-fulham-2011": ("Hammersmith and Fulham", "ofsted_slac", 2011, "2011-07-22", "2011-06-06",
                                    "2011-06-17", "2011-07-22"),
    "wandsworth-2015": ("Wandsworth", "ofsted_sif", 2015, "2015-11", None, None, None),
    "windsor-and-maidenhead-2015": ("Windsor and Maidenhead", "ofsted_sif", 2015, "2015-05-13", "2015-03-03",
                                    "2015-03-25", "2015-05-13"),
}


def test_the_five_seeds_are_recognised(seed_reports):
    assert set(seed_reports) == set(SEEDS)
    for rid, (authority, kind, year, when, start, end, published) in EXPECTED.items():
        report = seed_reports[rid]
        assert report.file == SEEDS[rid]
        assert (report.authority, report.report_type, report.year, report.date) == (authority, kind, year, when), rid
        assert (report.inspection_start, report.inspection_end, report.published) == (start, end, published), rid


def test_titles_and_labels(seed_reports):
    assert seed_reports["hammersmith-and-fulham-2011"].title == \
        "Hammersmith and Fulham: Inspection of safeguarding and looked after children services"
    assert seed_reports["hillingdon-2017"].title == \
        "London Borough of Hillingdon Children and Young People Services overview - October 2017"
    assert seed_reports["windsor-and-maidenhead-2015"].title.startswith(
        "Windsor and Maidenhead: Inspection of services for children in need of help and protection")
    assert seed_reports["wandsworth-2015"].title == "Wandsworth: Ofsted inspection (no title page)"
    assert seed_reports["hillingdon-2017"].label == "Hillingdon, Council overview, 2017-10"


def test_confident_where_the_title_page_says_it(seed_reports):
    for rid in ("hillingdon-2013", "hillingdon-2017", "hammersmith-and-fulham-2011", "windsor-and-maidenhead-2015"):
        assert seed_reports[rid].confidence == "high", (rid, seed_reports[rid].notes)
        doubts = [n for n in seed_reports[rid].notes if "publication date" not in n]
        assert doubts == [], rid
    # Hillingdon's 2013 report prints its inspection dates but no publication date: it says so, no guess.
    hillingdon = seed_reports["hillingdon-2013"]
    assert hillingdon.published is None and hillingdon.date == hillingdon.inspection_end
    assert any("prints no publication date" in n for n in hillingdon.notes)


def test_wandsworth_without_title_page_is_read_from_its_body_and_flagged(seed_reports):
    wandsworth = seed_reports["wandsworth-2015"]
    assert wandsworth.confidence == "medium"
    notes = " ".join(wandsworth.notes)
    assert "no title page" in notes
    assert "No date is stated; 2015-11 estimated from the latest date the text mentions." in wandsworth.notes


def test_detect_on_small_texts():
    sif = detect("Inspection of services for children in need of help and protection, children looked after and "
                 "care leavers\nLondon Borough of Hillingdon\nInspection date: 25 November 2013 – 18 December 2013\n"
                 "Hillingdon inspectors found\n", find_authorities_in_text)
    assert (sif.authority, sif.report_type, sif.inspection_start, sif.inspection_end, sif.confidence) == \
        ("Hillingdon", "ofsted_sif", "2013-11-25", "2013-12-18", "high")
    nothing = detect("Nothing here names a council or a date.", find_authorities_in_text)
    assert (nothing.authority, nothing.report_type, nothing.date, nothing.confidence) == (None, "other", None, "low")
    assert "No English local authority is named in the text." in nothing.notes
    assert nothing.title == "Unknown authority: Report (no title page)"


def test_an_inspection_in_two_parts_ends_with_its_last_part_and_its_pdf_dates_it():
    # South Tyneside's 2023 report: inspected in December 2022 and February 2023, no date printed, PDF made 10 May
    # 2023. Read as ending in December, the PDF looked too late to be its publication, and 'in 2023' missed it.
    text = ("Inspection of South Tyneside local authority children's services\n"
            "Inspection dates: 5 to 9 December 2022 and 14 to 15 February 2023\n"
            "Lead inspector: A Person, His Majesty's Inspector\nJudgement Grade\nOverall effectiveness Inadequate\n"
            "Inspectors found that services in South Tyneside have declined.\n")
    meta = detect(text, find_authorities_in_text, "2023-05-10")
    assert (meta.inspection_start, meta.inspection_end, meta.date, meta.year) == \
        ("2022-12-05", "2023-02-15", "2023-05-10", 2023)
    one_part = detect(text.replace(" and 14 to 15 February 2023", ""), find_authorities_in_text, "2023-05-10")
    assert (one_part.inspection_end, one_part.date) == ("2022-12-09", "2022-12-09")   # 152 days: not its publication


def test_undated_text_ignores_planned_dates():
    text = ("Our work with families\n\nWe opened a hub for Hillingdon families in October 2017. Hillingdon social "
            "workers moved there. A review is expected in March 2019 and the plan runs until June 2020.\n")
    meta = detect(text, find_authorities_in_text)
    assert meta.date == "2017-10" and meta.year == 2017
    assert meta.confidence != "high" and any("estimated" in n for n in meta.notes)


# ---- catalog.toml -------------------------------------------------------------------------------

def catalog_corpus(tmp_path, catalog: str | bytes, *seeds: str):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for rid in seeds:
        shutil.copy(CORPUS / SEEDS[rid], corpus / SEEDS[rid])
    target = corpus / "catalog.toml"
    target.write_bytes(catalog) if isinstance(catalog, bytes) else target.write_text(catalog, encoding="utf-8")
    return corpus


def test_catalog_overrides_fields_and_settles_the_doubt(tmp_path):
    name = SEEDS["wandsworth-2015"]
    corpus = catalog_corpus(tmp_path, f'["{name}"]\ndate = "2016-02-16"\npublished = "2016-02-16"\n'
                                      f'inspection_start = "2015-11-09"\ninspection_end = "2015-12-02"\n',
                            "wandsworth-2015")
    parsed = parse_corpus(corpus)
    assert parsed.warnings == () and parsed.skipped == ()
    [report] = parsed.reports
    assert (report.date, report.year, report.published) == ("2016-02-16", 2016, "2016-02-16")
    assert (report.inspection_start, report.inspection_end) == ("2015-11-09", "2015-12-02")
    assert report.id == "wandsworth-2016"                     # the id follows the corrected year
    assert report.confidence == "high"
    assert report.notes[-1] == "Set by catalog.toml: date, inspection_end, inspection_start, published."
    assert not any("estimated" in n for n in report.notes)
    assert all(j.date == "2016-02-16" for j in report.judgements)


def test_catalog_can_set_authority_and_type(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "notes.txt").write_text("Our plans for children\n\nWe have improved the service for families this "
                                      "year and we will keep doing so.\n", encoding="utf-8")
    (corpus / "catalog.toml").write_text('["notes.txt"]\nauthority = "Wandsworth"\nreport_type = "council_overview"\n'
                                         'date = "2019"\ntitle = "Wandsworth plans 2019"\n', encoding="utf-8")
    [report] = parse_corpus(corpus).reports
    assert (report.authority, report.report_type, report.year, report.title) == \
        ("Wandsworth", "council_overview", 2019, "Wandsworth plans 2019")
    assert report.id == "wandsworth-2019"


def test_invalid_toml_is_a_warning_not_a_crash(tmp_path):
    corpus = catalog_corpus(tmp_path, '["report.txt"\nauthority = "Wandsworth"\n', "hillingdon-2017")
    entries, warnings = load_catalog(corpus)
    assert entries == {} and len(warnings) == 1
    assert "catalog.toml: not valid TOML" in warnings[0] and "the catalog is ignored" in warnings[0]
    parsed = parse_corpus(corpus)
    assert [r.id for r in parsed.reports] == ["hillingdon-2017"] and parsed.warnings == tuple(warnings)


def test_catalog_that_is_not_utf8_is_a_warning(tmp_path):
    corpus = catalog_corpus(tmp_path, b'["a.txt"]\nauthority = "Caf\xe9"\n', "hillingdon-2017")
    entries, warnings = load_catalog(corpus)
    assert entries == {} and "not valid TOML" in warnings[0]


def test_unknown_fields_and_bad_values_are_reported_and_ignored(tmp_path):
    name = SEEDS["hillingdon-2017"]
    corpus = catalog_corpus(tmp_path, f'loose = 3\n["{name}"]\nauthority = "Hillingdon"\ncolour = "blue"\n'
                                      f'report_type = "newspaper"\n', "hillingdon-2017")
    entries, warnings = load_catalog(corpus)
    assert entries == {name: {"authority": "Hillingdon"}}
    assert any("has unknown fields colour; known: authority, report_type" in w for w in warnings)
    assert any(f"report_type must be one of {', '.join(REPORT_TYPES)}; ignored." in w for w in warnings)
    assert any("[loose] must be a table of fields; ignored." in w for w in warnings)
    [report] = parse_corpus(corpus).reports
    assert report.report_type == "council_overview"


def test_catalog_naming_a_missing_file_is_reported(tmp_path):
    corpus = catalog_corpus(tmp_path, '["gone.pdf"]\nauthority = "Wandsworth"\n', "hillingdon-2017")
    parsed = parse_corpus(corpus)
    assert parsed.warnings == (f"catalog.toml names gone.pdf, which is not in {corpus}.",)
    assert [r.id for r in parsed.reports] == ["hillingdon-2017"]


def test_apply_catalog_keeps_doubt_it_does_not_fix():
    meta = Metadata("t", "Wandsworth", "ofsted_sif", "2015-11", 2015, confidence="medium",
                    notes=("Authority uncertain: Wandsworth (2), Merton (1).",
                           "No date is stated; 2015-11 estimated from the latest date the text mentions."))
    dated = apply_catalog(meta, {"date": "2016-02"})
    assert (dated.date, dated.year, dated.confidence) == ("2016-02", 2016, "medium")
    assert dated.notes == ("Authority uncertain: Wandsworth (2), Merton (1).", "Set by catalog.toml: date.")
    both = apply_catalog(meta, {"date": "2016-02", "authority": "Wandsworth"})
    assert both.confidence == "high" and both.notes == ("Set by catalog.toml: authority, date.",)
    assert apply_catalog(meta, None) is meta and apply_catalog(meta, {}) is meta


@pytest.mark.parametrize("rid", sorted(SEEDS))
def test_file_names_play_no_part(tmp_path, rid):
    """The same text under another name gives the same metadata."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    shutil.copy(CORPUS / SEEDS[rid], corpus / "download (3).txt")
    [report] = parse_corpus(corpus).reports
    authority, kind, year, when, *_ = EXPECTED[rid]
    assert (report.id, report.authority, report.report_type, report.year, report.date) == \
        (rid, authority, kind, year, when)
