"""Pages of text reports, counted from page breaks anchored by printed page numbers and the contents
page: checked on the seed reports against their printed page numbers and contents pages."""
from __future__ import annotations

import pytest

from rag.ingest.cleaning import contents_entries, title_key
from rag.ingest.readers import read_source
from tests.conftest import CORPUS, SEEDS


def numbered(report) -> dict[str, object]:
    return {p.number: p for p in report.paragraphs if p.number}


def test_wandsworth_pages_anchored_by_page_number_lines(seed_reports):
    by_number = numbered(seed_reports["wandsworth-2015"])
    # '12' ends the page holding paragraph 21; '13' the one ending with 25; '36' and '43' likewise.
    expected = {"21": 12, "22": 13, "25": 13, "26": 14, "108": 36, "109": 37, "131": 43, "132": 44}
    assert {n: by_number[n].page for n in expected} == expected
    pages = [p.page for p in seed_reports["wandsworth-2015"].paragraphs]
    assert None not in pages and pages == sorted(pages)


@pytest.mark.parametrize("report_id, first_paragraphs", [
    ("hillingdon-2013", {"The experiences and progress of children who need help and protection require": 10,
                         "The effectiveness of the Local Safeguarding Children Board (LSCB) requires improvement.": 1,
                         "An outstanding local authority leads highly effective services": 23}),
    ("windsor-and-maidenhead-2015", {"Key judgement | Judgement grade\nThe experiences and progress of children who "
                                     "need help": 12,
                                     "The Local Safeguarding Children Board requires improvement": 37,
                                     "An outstanding local authority leads highly effective services": 43}),
])
def test_pages_agree_with_the_contents_page(seed_reports, report_id, first_paragraphs):
    report = seed_reports[report_id]
    entries = contents_entries(read_source(CORPUS / SEEDS[report_id]))
    pages_under: dict[str, set[int]] = {}
    for p in report.paragraphs:
        for heading in p.headings:
            pages_under.setdefault(title_key(heading), set()).add(p.page)
    checked = {key: page for key, page in entries.items() if key in pages_under}
    assert len(checked) >= 4, entries
    for key, page in checked.items():       # the section listed on page n has a paragraph on page n
        assert page in pages_under[key], (key, page, sorted(pages_under[key]))
    for start, page in first_paragraphs.items():   # sections whose title is not in the heading path
        assert next(p for p in report.paragraphs if p.text.startswith(start)).page == page, start
    pages = [p.page for p in report.paragraphs]
    assert None not in pages and pages == sorted(pages)


def test_hillingdon_page_6_ends_at_its_printed_number(seed_reports):
    hillingdon = seed_reports["hillingdon-2013"]
    team = next(p for p in hillingdon.paragraphs if p.text.startswith("Lead inspector: Ian Young"))
    area = next(p for p in hillingdon.paragraphs if p.text.startswith("Approximately 66,000 children"))
    assert (team.page, area.page) == (6, 7)


def test_no_pages_invented_without_breaks(seed_reports):
    # Hammersmith and Fulham's text has neither page breaks nor page-number lines.
    assert {p.page for p in seed_reports["hammersmith-and-fulham-2011"].paragraphs} == {None}
