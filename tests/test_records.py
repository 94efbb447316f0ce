"""The core records: the shared JSON shape of a paragraph, and how hits, citations and answers serialise."""
from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace

import pytest

from rag.records import Answer, Citation, Claim, Hit, Judgement, Paragraph, Report, paragraph_json
from tests.helpers import make_report

FIELDS = ["id", "authority", "report", "title", "date", "section", "paragraph", "page", "text"]


@pytest.fixture()
def report() -> Report:
    base = make_report("testshire-2015", "Testshire", ["Children are seen quickly.", "Leaders know their services."])
    headed = replace(base.paragraphs[1], headings=("Leadership", "Governance"), number=None, page=None)
    return replace(base, paragraphs=(base.paragraphs[0], headed))


def test_paragraph_json_uses_exactly_the_shared_field_names(report):
    p = report.paragraphs[0]
    data = paragraph_json(p, report)
    assert sorted(data) == sorted(FIELDS)
    assert data == {"id": "testshire-2015:00000000", "authority": "Testshire", "report": "testshire-2015",
                    "title": "Testshire report", "date": "2015-06-01", "section": "Section", "paragraph": "1",
                    "page": 1, "text": "Children are seen quickly."}


def test_paragraph_json_without_a_report_or_number(report):
    p = report.paragraphs[1]
    data = paragraph_json(p, None)
    assert sorted(data) == sorted(FIELDS)
    assert data["authority"] is None and data["title"] is None and data["date"] is None
    assert data["report"] == "testshire-2015" and data["section"] == "Leadership > Governance"
    assert data["paragraph"] is None and data["page"] is None


def test_hit_json_adds_a_rounded_score(report):
    data = Hit(report.paragraphs[0], report, 0.123456789, dense_rank=2).to_json()
    assert list(data) == FIELDS + ["score"]
    assert data["score"] == 0.123457 and data["text"] == "Children are seen quickly."


def test_citation_json_has_its_key_and_quote(report):
    data = Citation(3, report.paragraphs[0], report, "seen quickly").to_json()
    assert list(data) == ["n"] + FIELDS + ["quote"]
    assert data["n"] == 3 and data["quote"] == "seen quickly" and data["id"] == report.paragraphs[0].id


def _answer(report: Report) -> Answer:
    claims = (Claim("Children are seen quickly [1].", (1,), True),
              Claim("Leaders know everything [2].", (2,), False, "no number in the paragraph"),
              Claim("All is well.", (), False, "no citation"))
    citations = (Citation(1, report.paragraphs[0], report, "Children are seen quickly."),
                 Citation(2, report.paragraphs[1], report, "Leaders know their services."))
    return Answer(question="How quickly are children seen?", text="Children are seen quickly [1].",
                  abstained=False, citations=citations, hits=tuple(Hit(p, report, 0.5) for p in report.paragraphs),
                  claims=claims, engine="extractive", standalone_question="How quickly are children seen in Testshire?",
                  authorities=("Testshire",), table=(("Aspect", "Testshire"), ("Speed", "Quick [1].")),
                  seconds=1.23456)


def test_answer_json_shape(report):
    answer = _answer(report)
    data = answer.to_json()
    assert list(data) == ["question", "standalone_question", "answer", "raw_answer", "abstained", "engine", "notice",
                          "authorities", "claims", "citations", "table", "hits", "seconds"]
    assert data["claims"] == {"total": 3, "verified": 1,
                              "unsupported": ["Leaders know everything [2].", "All is well."]}
    assert [c["n"] for c in data["citations"]] == [1, 2]
    assert data["citations"][1]["quote"] == "Leaders know their services."
    assert data["table"] == [["Aspect", "Testshire"], ["Speed", "Quick [1]."]]
    assert data["authorities"] == ["Testshire"] and data["seconds"] == 1.235
    assert len(data["hits"]) == 2 and "score" in data["hits"][0]
    assert json.loads(json.dumps(data)) == data            # plain JSON: lists, not tuples or records
    assert answer.verified_claims == 1


def test_an_abstention_serialises_with_empty_lists():
    data = Answer(question="q", text="The reports in the corpus do not say.", abstained=True).to_json()
    assert data["abstained"] is True and data["citations"] == [] and data["hits"] == [] and data["table"] == []
    assert data["claims"] == {"total": 0, "verified": 0, "unsupported": []}


@pytest.mark.parametrize("authority, report_type, date, label", [
    ("Hillingdon", "ofsted_sif", "2013", "Hillingdon, Ofsted inspection, 2013"),
    ("Hillingdon", "council_overview", "2017-03", "Hillingdon, Council overview, 2017-03"),
    (None, "ofsted_slac", "2011", "Unknown authority, Ofsted safeguarding and looked after children inspection, 2011"),
    ("Wandsworth", "ofsted_sif", None, "Wandsworth, Ofsted inspection"),
    ("Barnet", "annual_letter", "2016", "Barnet, annual_letter, 2016"),     # an unknown type shows as stored
])
def test_report_label(authority, report_type, date, label):
    report = make_report(authority=authority or "x", report_type=report_type)
    assert replace(report, authority=authority, date=date).label == label


def test_report_summary_counts_instead_of_listing(report):
    j = Judgement(report.id, "Testshire", "2015-06-01", "care_leavers", "Care leavers", "good", report.paragraphs[0].id)
    full = replace(report, judgements=(j,), confidence="low", notes=("title page missing",))
    summary = full.summary()
    assert summary == {"id": "testshire-2015", "file": "testshire-2015.txt", "title": "Testshire report",
                       "authority": "Testshire", "report_type": "ofsted_sif", "date": "2015-06-01", "year": 2015,
                       "inspection_start": None, "inspection_end": None, "published": None, "variant": "",
                       "lead_inspector": None, "paragraphs": 2,
                       "judgements": 1, "confidence": "low", "notes": ["title page missing"]}
    json.dumps(summary)


def test_records_are_frozen(report):
    with pytest.raises(FrozenInstanceError):
        report.paragraphs[0].text = "changed"   # type: ignore[misc]
    assert Paragraph("r:1", "r", 0, "t", "t").section == ""
