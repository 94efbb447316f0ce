"""Reports to and from JSON: every field survives, including nested paragraphs and judgements."""
from __future__ import annotations

import json

from rag.index.serialise import paragraph_from_dict, paragraph_to_dict, report_from_dict, report_to_dict
from rag.records import Judgement, Paragraph, Report


def full_report() -> Report:
    """A report with every optional field set, a bullet with its lead-in and a report without an authority."""
    paragraphs = (
        Paragraph(id="r-p0", report="r", ordinal=0, text="Adoption performance is good.", original="  Adoption ",
                  headings=("Section 1", "Adoption"), number="12", page=3),
        Paragraph(id="r-p1", report="r", ordinal=1, text="audits are regular.", original="• audits are regular.",
                  headings=("Section 1",), page=4, kind="bullet", lead_in="Inspectors found that:"),
    )
    judgements = (Judgement(report="r", authority="Hillingdon", date="2011-06", area="overall_effectiveness",
                            label="Overall effectiveness", grade="good", paragraph_id="r-p0", framework="slac",
                            service="looked_after", grade_number=2),)
    return Report(id="r", file="r.txt", sha256="0" * 64, title="Hillingdon report", authority=None,
                  report_type="ofsted_slac", date="2011-06", year=2011, inspection_start="2011-05-09",
                  inspection_end="2011-05-20", published="2011-06-24", confidence="low",
                  notes=("title page missing", "authority unknown"), paragraphs=paragraphs, judgements=judgements)


def test_reports_round_trip_exactly_through_json():
    reports = [full_report(), Report(id="bare", file="bare.txt", sha256="1" * 64, title="", authority="Wandsworth",
                                     report_type="other", date=None, year=None)]
    assert [report_from_dict(json.loads(json.dumps(report_to_dict(r)))) for r in reports] == reports
    paragraph = full_report().paragraphs[1]
    assert paragraph_from_dict(json.loads(json.dumps(paragraph_to_dict(paragraph)))) == paragraph


def test_unknown_keys_are_ignored():
    data = report_to_dict(full_report()) | {"added_by_a_later_version": 1}
    data["paragraphs"][0]["also_new"] = "x"
    assert report_from_dict(data) == full_report()
