"""A report's own words beside its grades (rag.ofsted.table): its headline summary, never a section about
the area or an earlier inspection; the summary of the section that judges an area; what a later report
records of an earlier inspection the corpus lacks; and 'summarise the 2025 inspection' answered with the
nearest report's grades and summary (rag.answer.plan)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer.finish import finish
from rag.answer.plan import PlanMode, plan
from rag.errors import NotFound
from rag.index.embedding import HashingEmbedder
from rag.index.reader import Index
from rag.index.writer import write_index
from rag.ofsted.frameworks import NO_OVERALL_GRADE
from rag.ofsted.table import area_summary, earlier_inspection_statements, headline, recounts_earlier_grade
from rag.records import Judgement, Paragraph, Report
from rag.search.retrieval import Searcher

HEADING = "Children's services in Eastshire are inadequate"
CARE_LEAVERS = "The experiences and progress of care leavers: inadequate"
SECTIONS = [
    ("Inspection of services for children in need of help and protection", "and"),
    (HEADING, HEADING),
    (HEADING, "There are widespread and serious failures that leave children unsafe in Eastshire today."),
    (HEADING, "1. Children who need help and protection | Inadequate"),
    ("Previous Ofsted inspections", "The previous inspection of Eastshire's safeguarding arrangements was in "
                                    "April 2012. The local authority was judged to be good."),
    (CARE_LEAVERS, CARE_LEAVERS),
    (CARE_LEAVERS, "The quality of support provided to care leavers is inadequate. Risks are not recognised."),
    (CARE_LEAVERS, "Personal advisers are allocated late and many care leavers do not know who they are."),
]


def searcher_over(folder, reports: list[Report]) -> Searcher:
    """A searcher over an index of these reports, written with the hashing embedder."""
    embedder = HashingEmbedder(64)
    write_index(folder, reports, embedder, pipeline_version="test")
    return Searcher(Index.load(folder, embedder_name=embedder.name, pipeline_version="test"), embedder)


def sif_report(rid: str = "eastshire-2015", sections=SECTIONS) -> Report:
    paragraphs = tuple(Paragraph(f"{rid}:{i:04d}", rid, i, text, text, (heading,), "", 1,
                                 kind="table" if "|" in text else "paragraph")
                       for i, (heading, text) in enumerate(sections))
    judgements = (Judgement(rid, "Eastshire", "2015-07-20", "overall_effectiveness", "Overall effectiveness",
                            "inadequate", f"{rid}:0001", "sif"),
                  Judgement(rid, "Eastshire", "2015-07-20", "care_leavers", "Experiences and progress of care leavers",
                            "inadequate", f"{rid}:0005", "sif"))
    return Report(id=rid, file=f"{rid}.pdf", sha256=rid, title="Inspection of Eastshire", authority="Eastshire",
                  report_type="ofsted_sif", date="2015-07-20", year=2015, inspection_start="2015-05-11",
                  inspection_end="2015-06-04", published="2015-07-20", paragraphs=paragraphs, judgements=judgements)


def test_the_headline_is_the_summary_under_the_grade_heading_not_an_earlier_inspections_grade():
    assert headline(sif_report()) == ("eastshire-2015:0002", SECTIONS[2][1])
    # Without it, a section about an earlier inspection is still never taken for the summary.
    assert headline(sif_report(sections=SECTIONS[:2] + SECTIONS[3:5])) is None


def test_the_headline_is_never_a_sentence_about_the_report_itself():
    guide = (HEADING, "This executive summary should be read alongside the recommendations in the next section of "
                      "this report. Each recommendation is clearly linked to the relevant paragraph(s) of it. "
                      "Children in Eastshire wait too long for help, and risks are not recognised.")
    report = sif_report(sections=[SECTIONS[0], SECTIONS[1], guide, *SECTIONS[3:]])
    assert headline(report) == ("eastshire-2015:0002",
                                "Children in Eastshire wait too long for help, and risks are not recognised.")


def test_the_headline_of_a_judgement_box_skips_its_dates_and_its_judgement():
    box = ("Inspection date: 11 May 2015 – 4 June 2015\nReport published: 20 July 2015\n" + HEADING
           + "\nThere are widespread and serious failures that leave children unsafe in Eastshire today.")
    report = sif_report(sections=[SECTIONS[0], (HEADING, box), *SECTIONS[3:]])
    assert headline(report) == ("eastshire-2015:0001", SECTIONS[2][1])


def test_an_areas_summary_is_the_first_paragraph_of_the_section_that_judges_it():
    report = sif_report()
    assert area_summary(report, "care_leavers") == ("eastshire-2015:0006",
                                                    "The quality of support provided to care leavers is inadequate.")
    assert area_summary(report, "overall_effectiveness") == headline(report)
    assert area_summary(report, "adoption_performance") is None


def test_what_a_later_report_records_of_an_earlier_inspection():
    assert earlier_inspection_statements(sif_report(), "2012") == [
        ("eastshire-2015:0004", "The previous inspection of Eastshire's safeguarding arrangements was in April 2012.")]
    assert earlier_inspection_statements(sif_report(), "2010") == []


def test_summarise_a_missing_years_inspection_gives_the_nearest_reports_grades_and_summary(tmp_path):
    searcher = searcher_over(tmp_path, [sif_report()])
    the_plan = plan(searcher, "Summarise the findings of Eastshire's 2012 children's services inspection.")
    assert the_plan.mode == PlanMode.JUDGEMENT
    answer = finish(the_plan, [], engine="extractive")
    assert "no 2012 report" in answer.text
    assert "Eastshire (2015): Overall effectiveness — inadequate [1]." in answer.text
    assert "Eastshire (2015): There are widespread and serious failures" in answer.text
    assert "Eastshire (2015), on the 2012 inspection: The previous inspection of Eastshire's safeguarding" in answer.text
    assert answer.claims and all(c.verified for c in answer.claims)


def test_a_short_paragraph_id_finds_its_paragraph_when_one_report_has_it(tmp_path):
    embedder = HashingEmbedder(64)
    later = sif_report("eastshire-2018", SECTIONS + [(CARE_LEAVERS, "Care leavers now have a personal adviser.")])
    write_index(tmp_path, [sif_report(), later], embedder, pipeline_version="test")
    index = Index.load(tmp_path, embedder_name=embedder.name, pipeline_version="test")
    assert index.full_id("0008") == "eastshire-2018:0008"
    assert index.full_id("eastshire-2015:0002") == "eastshire-2015:0002"
    with pytest.raises(NotFound, match="2 reports have a paragraph '0002'.*give it as <report>:<id>"):
        index.full_id("0002")


def test_how_do_two_authorities_compare_gives_each_ones_grades_and_summary(tmp_path):
    west = sif_report("westshire-2015")
    west = replace(west, authority="Westshire", judgements=tuple(replace(j, authority="Westshire")
                                                                 for j in west.judgements))
    searcher = searcher_over(tmp_path, [sif_report(), west])
    for question in ("Both councils were inspected in 2015. How did Eastshire and Westshire compare?",
                     "Compare Eastshire and Westshire.", "Compare the latest Ofsted grades for Eastshire and Westshire."):
        the_plan = plan(searcher, question)
        assert the_plan.mode == PlanMode.JUDGEMENT, question
        answer = finish(the_plan, [], engine="extractive")
        assert "Eastshire (2015): Overall effectiveness — inadequate" in answer.text
        assert "Westshire (2015): Overall effectiveness — inadequate" in answer.text
        assert "Westshire (2015): There are widespread and serious failures" in answer.text
    # A topic asked about them is searched for, not summarised.
    assert plan(searcher, "How did Eastshire and Westshire compare on personal advisers?").mode != PlanMode.JUDGEMENT


def test_a_summary_sentence_says_what_this_inspection_found_not_only_an_earlier_grade():
    assert recounts_earlier_grade("Halton was inspected in March 2020 and was judged to be requires improvement to "
                                  "be good across all areas of the service.", 2024)
    assert recounts_earlier_grade("At the last inspection, in May 2019, the local authority was judged to be "
                                  "‘requires improvement to be good’.", 2024)
    assert not recounts_earlier_grade("Since the last inspection in 2020, when services were judged to be requires "
                                      "improvement to be good, there has been a significant deterioration.", 2024)
    assert not recounts_earlier_grade("Services for children who need help and protection are now inadequate.", 2024)
    history = "At the last inspection, in May 2019, the local authority was judged to be requires improvement."
    sections = [SECTIONS[0], (CARE_LEAVERS, history + " Care leavers now wait too long for a personal adviser.")]
    assert area_summary(sif_report(sections=sections), "care_leavers") == (
        "eastshire-2015:0001", "Care leavers now wait too long for a personal adviser.")


def test_a_report_without_an_overall_grade_is_summarised_in_its_own_words(tmp_path):
    rid = "eastshire-2026"
    headline_text = "Children, care leavers and families in Eastshire benefit greatly from outstanding services."
    texts = ["The impact of leaders on social work practice with children and families | Outstanding",
             headline_text, "Personal advisers know their young people well and visit them often."]
    paragraphs = tuple(Paragraph(f"{rid}:{i:04d}", rid, i, t, t, ("Inspection of Eastshire",), "", 1,
                                 kind="table" if "|" in t else "paragraph") for i, t in enumerate(texts))
    leaders = Judgement(rid, "Eastshire", "2026-08-18", "impact_of_leaders",
                        "The impact of leaders on social work practice with children and families", "outstanding",
                        f"{rid}:0000", "ilacs")
    report = replace(sif_report(rid), report_type="ofsted_ilacs", date="2026-08-18", year=2026,
                     inspection_start="2026-07-06", inspection_end="2026-07-10", published="2026-08-18",
                     variant=f"standard, {NO_OVERALL_GRADE}", paragraphs=paragraphs, judgements=(leaders,))
    searcher = searcher_over(tmp_path, [report])
    answer = finish(plan(searcher, "What was Eastshire's overall effectiveness judgement in 2026?"), [],
                    engine="extractive")
    assert "the report gives no overall effectiveness grade" in answer.text
    assert f"Eastshire (2026): {headline_text.rstrip('.')} [2]." in answer.text


def test_a_short_national_list_quotes_each_reports_area_summary_and_headline(tmp_path):
    searcher = searcher_over(tmp_path, [sif_report()])
    the_plan = plan(searcher, "Which councils were judged inadequate for care leavers?")
    assert the_plan.mode == PlanMode.TABLE
    answer = finish(the_plan, [], engine="extractive")
    lines = answer.text.split("\n")
    at = next(i for i, line in enumerate(lines) if "Experiences and progress of care leavers — inadequate" in line)
    assert lines[at + 1] == "Eastshire (2015): The quality of support provided to care leavers is inadequate [2]."
    assert lines[at + 2].startswith("Eastshire (2015): There are widespread and serious failures")


def test_a_change_across_the_country_rests_first_on_each_later_reports_words_on_the_change(tmp_path):
    change = "Since the last inspection in 2015, when services were inadequate, services have improved greatly."
    later = sif_report("eastshire-2018", [SECTIONS[0], (HEADING, "Children's services in Eastshire are good."),
                                          (HEADING, change)])
    later = replace(later, date="2018-07-20", year=2018, inspection_start="2018-05-01", inspection_end="2018-05-20",
                    published="2018-07-20", judgements=(replace(later.judgements[0], grade="good",
                                                                date="2018-07-20"),))
    searcher = searcher_over(tmp_path, [sif_report(), later])
    the_plan = plan(searcher, "Which authorities improved from inadequate to good overall?")
    assert the_plan.mode == PlanMode.TABLE
    answer = finish(the_plan, [], engine="extractive")
    assert answer.text.rstrip().endswith(f"Eastshire (2018): {change.rstrip('.')} [4].")   # read after both grades
    assert answer.hits[0].paragraph.text == change


def test_the_headline_is_a_sentence_of_findings_not_a_title_the_grade_scale_or_the_areas_facts():
    sections = [("London Borough of Eastshire", "Inspection of services for children in need of help and protection, "
                                                "children looked after and care leavers and"),
                ("The inspection judgements and what they mean",
                 "All inspection judgements are made using the following four-point scale."),
                *[("Service information", f"Eastshire has a resident population of {n},000 children and young "
                                          "people.") for n in range(30, 42)],
                ("Overall effectiveness | Grade 2 (good)", "The overall effectiveness of the council and its partners "
                                                           "is good. Ambitious targets for improvement are set.")]
    assert headline(sif_report(sections=sections)) == (
        "eastshire-2015:0014", "The overall effectiveness of the council and its partners is good.")


def test_an_areas_summary_is_never_the_end_of_a_sentence_a_page_break_cut():
    cut = (CARE_LEAVERS, "know their young people well, and plans are reviewed with each of them regularly.")
    report = sif_report(sections=[*SECTIONS[:6], cut, *SECTIONS[6:]])
    assert area_summary(report, "care_leavers")[1] == "The quality of support provided to care leavers is inadequate."
