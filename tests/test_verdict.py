"""Yes or no from the grades (rag.answer.verdict): a yes/no question about a grade, or about a change of
grade, opens with the word the judgements table settles, for every engine; anything the grades do not
settle gets no verdict."""
from __future__ import annotations

import pytest

from rag.answer.plan import PlanMode
from rag.answer.verdict import verdict
from rag.records import Judgement
from rag.search.grammar import asks_yes_no
from rag.search.question import parse_query
from tests.test_over_time import answer, searcher  # noqa: F401 - the synthetic many-report corpus


def graded(grade: str, year: str, area: str = "overall_effectiveness") -> Judgement:
    return Judgement(f"x-{year}", "Exampleshire", f"{year}-05-01", area, area, grade, f"x-{year}:0001")


@pytest.mark.parametrize("question, expected", [
    ("Was Knowsley rated inadequate at its last inspection?", True),
    ("In 2021, did Ofsted find that children who go missing were offered return home interviews?", True),
    ("hertfordshire 2015 - was help and protection good?", True),
    ("Does Southwark have a problem with social worker vacancies?", True),
    ("What grade did Knowsley get?", False),
    ("Was it judged good or inadequate?", False),            # asks which, not whether
    ("In 2020 it was outstanding on everything else. Why was that only good?", False),
])
def test_a_yes_no_question_is_told_by_its_last_sentence(question, expected):
    assert asks_yes_no(question) is expected


@pytest.mark.parametrize("question, rows, expected", [
    ("Was it rated inadequate at its last inspection?", [graded("inadequate", "2025")], "Yes."),
    ("Did it get to good in 2023?", [graded("requires improvement", "2023")], "No."),
    ("Did it keep its outstanding rating?", [graded("outstanding", "2024")], "Yes."),
    ("Has it ever been rated inadequate?", [graded("inadequate", "2014"), graded("good", "2019")], "Yes."),
    ("Was it rated inadequate?", [graded("inadequate", "2014"), graded("good", "2019")], ""),   # mixed
    ("Wasn't it rated good?", [graded("good", "2019")], ""),          # 'yes' and 'no' would both be read
    ("Did it go from inadequate to good?", [graded("good", "2019")], ""),   # two grades asked
    ("Has it improved since 2019?", [graded("requires improvement", "2019"), graded("good", "2024")],
     "Yes: from requires improvement in 2019 to good in 2024."),
    ("Has it improved since 2019?", [graded("good", "2019"), graded("requires improvement", "2024")],
     "No: it went from good in 2019 to requires improvement in 2024."),
    ("Has it got worse since 2019?", [graded("good", "2019"), graded("inadequate", "2024")],
     "Yes: from good in 2019 to inadequate in 2024."),
    ("Has it improved since 2013?", [graded("adequate", "2013"), graded("requires improvement", "2017")],
     "No: adequate in 2013 and requires improvement in 2017."),      # the old scale's 'adequate' is level
    ("Did it still require improvement?", [graded("requires improvement", "2024")], "Yes."),  # a grade, not a change
    ("Has it improved?", [graded("good", "2024")], ""),                # one report: no change to tell
])
def test_the_grades_settle_yes_or_no(question, rows, expected):
    assert verdict(question, rows) == expected


def test_a_yes_no_question_naming_a_grade_but_no_area_asks_the_overall_grade():
    query = parse_query("Was Knowsley rated inadequate at its last inspection?", ["Knowsley"])
    assert query.asks_judgement and query.judgement_areas == ("overall_effectiveness",)
    # 'good' is a grade where a yes/no question says it was reached; elsewhere it is a word.
    assert parse_query("Did North Somerset get to good in 2023?", ["North Somerset"]).asks_judgement
    assert not parse_query("Do care leavers in Hertfordshire get good support?", ["Hertfordshire"]).asks_judgement


@pytest.mark.parametrize("question, first_line", [
    ("Was Havering rated inadequate at its last inspection?", "Yes."),
    ("Did Hackney get good in 2019?", "No."),
    ("Was Sunderland's care leavers service rated outstanding in 2025?", "No."),
    ("Has Hackney improved since its 2019 inspection?", "Yes: from requires improvement in 2019 to good in 2024."),
    ("Has Havering got worse since 2022?", "Yes: from good in 2022 to inadequate in 2024."),
])
def test_the_answer_opens_with_the_verdict_then_the_cited_grades(searcher, question, first_line):  # noqa: F811
    the_plan, result = answer(searcher, question)
    assert the_plan.mode == PlanMode.JUDGEMENT
    verdict_line, *lines = result.text.split("\n")
    assert verdict_line == first_line
    assert lines and result.citations and all(c.verified for c in result.claims)


def test_a_report_without_the_grade_asked_gets_no_verdict(searcher):  # noqa: F811
    # Liverpool's 2026 report has no overall effectiveness grade (Ofsted stopped giving one in April 2026).
    _, result = answer(searcher, "Was Liverpool rated inadequate at its last inspection?")
    assert not result.text.startswith(("Yes", "No")) and "no overall effectiveness grade" in result.text


def test_a_yes_no_grade_question_is_answered_from_the_table_on_the_bundled_corpus(assistant):
    # Wandsworth's 2015 report (its title page missing) states no overall grade: said so, no verdict.
    answer = assistant.ask("Is Wandsworth outstanding?")
    assert "does not state a grade" in answer.text and not answer.text.startswith(("Yes", "No"))
    answer = assistant.ask("Was Wandsworth's adoption performance judged inadequate?")
    assert answer.text.startswith("No.\n") and "requires improvement" in answer.text
    assert assistant.ask("Were Wandsworth's care leavers judged inadequate?").text.startswith("Yes.\n")
