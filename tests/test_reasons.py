"""Where a report gives the reasons for a grade (rag.answer.reasons), read from its structure."""
from __future__ import annotations

from rag.answer.reasons import reason_paragraphs
from rag.records import Paragraph, Report

HELP = ["help_and_protection"]
OVERALL = ["overall_effectiveness"]


def report(*parts: tuple[tuple[str, ...], str]) -> Report:
    paragraphs = tuple(Paragraph(f"r:{i}", "r", i, text, text, headings) for i, (headings, text) in enumerate(parts))
    return Report("r", "r.pdf", "0" * 64, "", "Testshire", "ofsted_ilacs", "2021-12-17", 2021, paragraphs=paragraphs)


TITLE = ("Inspection of Testshire local authority children's services",)
SECTION = ("The experiences and progress of children who need help and protection | Inadequate",)
ILACS = report(
    (TITLE, "Inspection dates: 25 October 2021 to 5 November 2021. Lead inspector: A Person."),
    (TITLE, "There are serious failures which leave too many children at risk of harm. Children who need help and "
            "protection experience drift and delay because of frequent changes of social worker."),
    (TITLE, "Senior leaders have not had sufficient oversight of practice and lack an accurate self-assessment."),
    (("What needs to improve?",), "The quality of strategy discussions."),
    (SECTION, "The experiences and progress of children who need help and protection | Inadequate"),
    (SECTION, "Children in need of help and protection are not always identified."),
    (SECTION, "Families benefit from a good range of early help services."),
    (SECTION, "Strategy meetings do not always identify the necessary actions."),
    (SECTION, "Allegations are well managed."),
    (SECTION, "Some disabled children have not had timely help; reviews lack rigour, delays are not challenged "
              "and plans are not updated."),
)


def test_the_sections_opening_findings_then_the_summarys_findings_on_that_area_come_first():
    texts = [p.text for p in reason_paragraphs(ILACS, HELP, "weaknesses")]
    assert texts[:2] == ["Children in need of help and protection are not always identified.",
                         "Strategy meetings do not always identify the necessary actions."]
    assert texts[2].startswith("There are serious failures")
    # Dates, the grade row, paragraphs with no weakness and the summary's findings on another area are not.
    assert not any(t.startswith(("Inspection dates", "The experiences", "Families", "Allegations", "Senior"))
                   for t in texts)


def test_a_because_list_gives_the_reasons_for_the_overall_grade():
    sif = report(
        (("The overall judgement is that children's services are inadequate",), "Inspection date: 3 March 2015."),
        (("The local authority", "Children's services in Testshire are inadequate because"),
         "Children's services in Testshire are inadequate because:"),
        (("The local authority", "Leadership and management"), "There are widespread and serious concerns about "
                                                               "the protection of children."),
        (("The local authority", "Quality of practice"), "Frequent changes of social workers mean plans lose "
                                                         "momentum and delay is not challenged."),
        (("What does the local authority need to improve?",), "Prevent unnecessary drift and delay."),
    )
    texts = [p.text for p in reason_paragraphs(sif, OVERALL, "weaknesses")]
    assert texts[:2] == ["There are widespread and serious concerns about the protection of children.",
                         "Frequent changes of social workers mean plans lose momentum and delay is not challenged."]
    assert "Prevent unnecessary drift and delay." not in texts


def test_an_improvement_lists_lead_ins_are_not_items_and_say_when():
    from rag.answer.extractive import compose
    from rag.answer.reasons import improvement_items
    from rag.answer.verify import Passage
    from rag.records import Hit
    areas = ("Areas for improvement",)
    paragraphs = [Paragraph("r:0", "r", 0, "In order to improve the quality of provision, the local authority should "
                            "take the following action.", "", areas)]
    for i, (when, item) in enumerate([("Immediately:", "improve the quality of supervision in casework"),
                                      ("Immediately:", "ensure that the voice of the child informs care planning"),
                                      ("Within three months:", "improve the timeliness of care proceedings")], 1):
        paragraphs.append(Paragraph(f"r:{i}", "r", i, item, item, areas, kind="bullet", lead_in=when))
    older = Report("r", "r.pdf", "0" * 64, "", "Testshire", "ofsted_lac", "2013-08-23", 2013,
                   paragraphs=tuple(paragraphs))
    assert [p.text for p in improvement_items(older)] == [p.text for p in paragraphs[1:]]
    immediate = improvement_items(older, {"immediat"})
    assert [p.id for p in immediate] == ["r:1", "r:2"]
    # Each item is a sentence of the answer, capitalised, with its own key.
    passages = [Passage(k, Hit(p, older, 1.0)) for k, p in enumerate(immediate, 1)]
    assert compose("What had to improve immediately?", passages, reasons="improvements") == (
        "Improve the quality of supervision in casework [1]. Ensure that the voice of the child informs care "
        "planning [2].")


def test_what_it_had_to_improve_asks_for_the_list():
    from rag.answer.plan import _IMPROVEMENTS_ASKED
    assert _IMPROVEMENTS_ASKED.search("What did the 2013 inspection say Kent had to improve immediately?")
    assert _IMPROVEMENTS_ASKED.search("It was outstanding across the board - was there anything Ofsted still wanted "
                                      "improved?")
    assert _IMPROVEMENTS_ASKED.search("After its 2026 inspection, what areas did Ofsted say still need work?")
    assert not _IMPROVEMENTS_ASKED.search("Had Kent improved by 2017?")
