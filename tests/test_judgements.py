"""Graded judgements of the five seeds. The expected values were read from the report files themselves (line
numbers below), not taken from the code's output; each judgement must cite a paragraph that states it."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest

from rag.ofsted.grades import AREAS
from rag.ofsted.judgements import extract, statement_paragraphs
from rag.records import Paragraph

RI, GOOD, OUTSTANDING, INADEQUATE = "requires improvement", "good", "outstanding", "inadequate"

# area -> (grade, text the citing paragraph must contain)
SIF_EXPECTED = {
    "hillingdon-2013": {        # 000_...: title page (lines 13-23), then each section's first sentence
        "overall_effectiveness": (RI, "The overall judgement is requires improvement."),
        "help_and_protection": (RI, "The experiences and progress of children who need help and protection require "
                                    "improvement."),
        "looked_after_permanence": (RI, "The experiences and progress of children looked after and achieving "
                                        "permanence require improvement."),
        "adoption_performance": (GOOD, "The graded judgement for adoption performance is good."),
        "care_leavers": (RI, "The graded judgement for the experiences and progress of care leavers is requires "
                             "improvement."),
        "leadership_management_governance": (RI, "Leadership, management and governance requires improvement"),
        "lscb": (RI, "The effectiveness of the Local Safeguarding Children Board (LSCB) requires improvement."),
    },
    "wandsworth-2015": {        # 003_...: no title page, so no overall judgement is ever stated
        "help_and_protection": (INADEQUATE, "The experiences and progress of children who need help and protection "
                                            "are inadequate."),
        "looked_after_permanence": (RI, "children looked after and achieving permanence | Requires improvement"),
        "adoption_performance": (RI, "The graded judgement for adoption performance is that it requires "
                                     "improvement."),
        "care_leavers": (INADEQUATE, "The graded judgement about the experiences and progress of care leavers is "
                                     "that it is inadequate"),
        "leadership_management_governance": (INADEQUATE, "Leadership, management and governance are inadequate."),
        "lscb": (RI, "Local Safeguarding Children Board (LSCB) in Wandsworth requires improvement to be good."),
    },
    "windsor-and-maidenhead-2015": {     # 004_...: title page (lines 15-24), 'Key judgement' boxes, headings
        "overall_effectiveness": (RI, "The overall judgement is that children's services require improvement"),
        "help_and_protection": (RI, "The experiences and progress of children who need help and protection | "
                                    "Requires improvement"),
        "looked_after_permanence": (RI, "The experiences and progress of children looked after and achieving "
                                        "permanence | Requires improvement"),
        "adoption_performance": (RI, "The graded judgement for adoption performance is that it requires improvement"),
        "care_leavers": (RI, "The graded judgement about the experience and progress of care leavers is that it "
                             "requires improvement"),
        "leadership_management_governance": (RI, "Leadership, management and governance | Requires improvement"),
        "lscb": (RI, "The Local Safeguarding Children Board requires improvement"),
    },
}

# Hammersmith and Fulham 2011 (002_...): each area is a heading with 'Grade n (label)' under one of two
# services (lines 81-366); equality and diversity is graded only in the record of main findings (lines 388, 403).
SLAC_EXPECTED = {
    "safeguarding": {
        "overall_effectiveness": (2, GOOD), "capacity_for_improvement": (1, OUTSTANDING), "safe": (2, GOOD),
        "quality_of_provision": (2, GOOD), "health_contribution": (2, GOOD),
        "ambition_prioritisation": (1, OUTSTANDING), "leadership_management": (1, OUTSTANDING),
        "performance_management": (2, GOOD), "partnership_working": (1, OUTSTANDING),
        "equality_diversity": (1, OUTSTANDING),
    },
    "looked_after": {
        "overall_effectiveness": (2, GOOD), "capacity_for_improvement": (1, OUTSTANDING),
        "being_healthy": (1, OUTSTANDING), "staying_safe": (2, GOOD), "enjoying_achieving": (2, GOOD),
        "positive_contribution": (2, GOOD), "economic_wellbeing": (2, GOOD), "quality_of_provision": (2, GOOD),
        "ambition_prioritisation": (1, OUTSTANDING), "leadership_management": (1, OUTSTANDING),
        "performance_management": (2, GOOD), "equality_diversity": (1, OUTSTANDING),
    },
}
SERVICE_HEADINGS = {"safeguarding": "Safeguarding services", "looked_after": "Services for looked after children"}


def cited(report, judgement) -> Paragraph:
    return next(p for p in report.paragraphs if p.id == judgement.paragraph_id)


@pytest.mark.parametrize("rid", sorted(SIF_EXPECTED))
def test_sif_judgements_as_the_reports_state_them(seed_reports, rid):
    report = seed_reports[rid]
    found = {j.area: j for j in report.judgements}
    assert set(found) == set(SIF_EXPECTED[rid])
    for area, (grade, stating_text) in SIF_EXPECTED[rid].items():
        j = found[area]
        assert j.grade == grade, (rid, area)
        assert stating_text in cited(report, j).text, (rid, area, cited(report, j).text[:120])
        assert (j.report, j.authority, j.date, j.framework, j.service, j.grade_number) == \
            (rid, report.authority, report.date, "sif", "", None)
        assert j.label == AREAS[area][0]


def test_wandsworth_has_no_invented_overall_judgement(seed_reports):
    wandsworth = seed_reports["wandsworth-2015"]
    assert "overall_effectiveness" not in {j.area for j in wandsworth.judgements}
    assert statement_paragraphs(wandsworth.paragraphs, "overall_effectiveness") == []


def test_council_overview_has_no_judgements(seed_reports):
    overview = seed_reports["hillingdon-2017"]
    assert overview.report_type == "council_overview" and overview.judgements == ()
    # It does mention Ofsted grades (of its children's homes), which are not judgements of this report.
    assert any("Ofsted ratings for the homes" in p.text for p in overview.paragraphs)


def test_hammersmith_two_services_with_numbered_grades(seed_reports):
    hf = seed_reports["hammersmith-and-fulham-2011"]
    found = {(j.service, j.area): j for j in hf.judgements}
    expected = {(service, area): value for service, areas in SLAC_EXPECTED.items() for area, value in areas.items()}
    assert set(found) == set(expected)
    for (service, area), (number, grade) in expected.items():
        j = found[(service, area)]
        assert (j.grade, j.grade_number, j.framework) == (grade, number, "slac"), (service, area)
        assert j.label == f"{SERVICE_HEADINGS[service]}: {AREAS[area][0]}"
        p = cited(hf, j)
        if area == "equality_diversity":            # only the record of main findings grades it
            assert p.kind == "table" and p.headings == ("Record of main findings:",)
            assert p.text.count("Equality and diversity | Outstanding") == 2
        else:                                        # the first paragraph under 'Area | Grade n (label)'
            assert p.headings[0] == SERVICE_HEADINGS[service]
            assert p.headings[-1].endswith(f" | Grade {number} ({grade})"), p.headings
            assert re.sub(r"[^a-z]", "", p.headings[-1].split(" | ")[0].lower()).startswith(
                re.sub(r"[^a-z]", "", AREAS[area][0].lower())[:12]), (area, p.headings)


def test_hammersmith_citations_state_the_grade_in_words(seed_reports):
    hf = seed_reports["hammersmith-and-fulham-2011"]
    found = {(j.service, j.area): cited(hf, j) for j in hf.judgements}
    assert found[("safeguarding", "leadership_management")].number == "47"
    assert found[("safeguarding", "leadership_management")].text.startswith(
        "The leadership and management of safeguarding services are outstanding.")
    assert found[("looked_after", "leadership_management")].number == "101"
    assert found[("looked_after", "staying_safe")].text.startswith(
        "Safeguarding arrangements for looked after children are good.")
    assert found[("safeguarding", "health_contribution")].text == \
        "The contribution of health agencies to keeping children and young safe is good."


def test_no_disagreement_notes_in_the_seeds(seed_reports):
    for report in seed_reports.values():
        assert not any("more than one grade" in n or "record of main findings" in n for n in report.notes), report.id


def test_judgement_table_counts(seed_reports):
    counts = {rid: len(r.judgements) for rid, r in seed_reports.items()}
    assert counts == {"hillingdon-2013": 7, "hillingdon-2017": 0, "hammersmith-and-fulham-2011": 22,
                      "wandsworth-2015": 6, "windsor-and-maidenhead-2015": 7}


# ---- extract() on small inputs ------------------------------------------------------------------

def para(i: int, text: str, headings: tuple[str, ...] = (), kind: str = "paragraph") -> Paragraph:
    return Paragraph(id=f"r:{i}", report="r", ordinal=i, text=text, original=text, headings=headings, kind=kind)


def test_extract_prefers_a_sentence_and_notes_conflicts():
    paragraphs = [
        para(0, "1. Children who need help and protection | Inadequate\n2. Adoption performance | Good", kind="table"),
        para(1, "The experiences and progress of children who need help and protection are inadequate."),
        para(2, "The graded judgement for adoption performance is requires improvement."),
        para(3, "An LSCB requires improvement if it does not yet demonstrate the characteristics of good.",
             headings=("What the inspection judgements mean",)),
    ]
    found, notes = extract("r", "Sometown", "2015", "ofsted_sif", paragraphs)
    assert {(j.area, j.grade, j.paragraph_id) for j in found} == {
        ("help_and_protection", INADEQUATE, "r:1"), ("adoption_performance", RI, "r:2")}
    assert notes == ["Adoption performance is requires improvement in the report's summary, but the body also says good."]


def test_the_front_page_summary_decides_and_a_sentence_of_the_same_grade_is_cited():
    paragraphs = [
        para(0, "1. Children who need help and protection | Requires improvement\n2. Adoption performance | Good",
             kind="table"),
        para(1, "At the last inspection in 2014, the experiences and progress of children who need help and "
                "protection were inadequate."),
        para(2, "The graded judgement for adoption performance is good."),
        para(3, "The experiences and progress of children who need help and protection: inadequate",
             headings=("Previous Ofsted inspections",)),
    ]
    paragraphs = [replace(p, page=1 if p.ordinal == 0 else 5) for p in paragraphs]
    found, _ = extract("r", "Sometown", "2017", "ofsted_sif", paragraphs)
    assert {(j.area, j.grade, j.paragraph_id) for j in found} == {
        ("help_and_protection", RI, "r:0"), ("adoption_performance", GOOD, "r:2")}


def test_extract_nothing_for_reports_that_are_not_inspections():
    paragraphs = [para(0, "The overall judgement is good.")]
    assert extract("r", "Sometown", "2017", "council_overview", paragraphs) == ([], [])
    assert extract("r", "Sometown", "2017", "other", paragraphs) == ([], [])
    assert extract("r", "Sometown", "2017", "ofsted_other", paragraphs) == ([], [])     # a kind not known: no guess


def test_slac_record_of_main_findings_disagreement_is_noted():
    service = ("Safeguarding services", "Partnership working | Grade 1 (outstanding)")
    paragraphs = [
        para(0, "Partnership working is outstanding at both a strategic and operational level.", service),
        para(1, "Safeguarding services\nOverall effectiveness | Good\nPartnership working | Good", kind="table"),
    ]
    found, notes = extract("r", "Sometown", "2011", "ofsted_slac", paragraphs)
    assert [(j.service, j.area, j.grade, j.grade_number, j.paragraph_id) for j in found] == [
        ("safeguarding", "partnership_working", OUTSTANDING, 1, "r:0"),
        ("safeguarding", "overall_effectiveness", GOOD, 2, "r:1")]
    assert notes == ["Safeguarding services: Partnership working is outstanding in the text but good in the record "
                     "of main findings."]
