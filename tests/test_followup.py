"""Follow-ups rewritten into standalone questions: a new authority, year, report or topic, referents
spelled out, chains of follow-ups, small talk."""
from __future__ import annotations

import pytest

from rag.search.followup import standalone_question
from rag.search.question import Query, parse_query

CORPUS = ("Hillingdon", "Hammersmith and Fulham", "Wandsworth", "Windsor and Maidenhead")


def parse(question: str, corpus=CORPUS) -> Query:
    return parse_query(question, corpus)


def chat(*turns: str) -> list[dict]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]


CP_QUESTION = "How many children were on child protection plans in Windsor and Maidenhead?"


@pytest.mark.parametrize("follow_up", [
    "And what about Wandsworth?", "What about Wandsworth?", "How about Wandsworth?", "And Wandsworth?",
    "Wandsworth?", "Same for Wandsworth, please.", "And for Wandsworth Council?", "Wandsworth too?",
])
def test_follow_up_swaps_the_authority(follow_up):
    history = chat(CP_QUESTION, "There were 80 children on child protection plans.")
    assert standalone_question(follow_up, history) == \
        "How many children were on child protection plans in Wandsworth?"


def test_follow_up_swaps_year_and_report():
    history = chat("How many children were looked after in Hillingdon in 2013?", "367.")
    assert standalone_question("And in 2017?", history) == \
        "How many children were looked after in Hillingdon in 2017?"
    history = chat("How were care leavers judged in Wandsworth (2015)?", "Inadequate.")
    assert standalone_question("What about Hillingdon (2013)?", history) == \
        "How were care leavers judged in Hillingdon (2013)?"
    history = chat("How many care leavers did Hillingdon have?", "397.")
    assert standalone_question("What about the 2017 overview?", history) == \
        "How many care leavers did Hillingdon have, according to the 2017 overview?"


@pytest.mark.parametrize("follow_up, topic", [
    ("And on adoption?", "adoption"), ("What about adoption?", "adoption"), ("And adoption?", "adoption"),
    ("Adoption?", "adoption"), ("How about placement stability?", "placement stability"),
])
def test_follow_up_keeps_the_comparison_on_a_new_topic(follow_up, topic):
    history = chat("Compare Hillingdon and Wandsworth on care leavers", "Hillingdon: ...; Wandsworth: ...")
    rewritten = standalone_question(follow_up, history)
    assert rewritten == f"Compare Hillingdon and Wandsworth on {topic}."
    q = parse(rewritten)
    assert q.is_comparison and q.authorities == ("Hillingdon", "Wandsworth")


def test_follow_up_on_a_new_topic_for_one_authority():
    history = chat("What grade did Wandsworth get in 2015 for adoption?", "Requires improvement.")
    assert standalone_question("And what about their care leavers?", history) == \
        "What judgement did Wandsworth (2015) get for care leavers?"
    history = chat("What is the rate of looked after children per 10,000 in Wandsworth?", "...")
    assert standalone_question("And placement stability?", history) == \
        "What do the reports say about placement stability in Wandsworth?"


EHITS = chat("What is EHITS in Wandsworth?",
             "It is the early help IT system, a secure web-based system that professionals use to draft early "
             "help assessments (EHAs) and that lead practitioners use to share information.")


def test_follow_up_adds_authority_and_referent():
    rewritten = standalone_question("How many of those assessments were open as of March 2015?", EHITS)
    assert rewritten == "In Wandsworth, how many of those early help assessments were open as of March 2015?"
    assert parse(rewritten).authorities == ("Wandsworth",)
    assert standalone_question("Were these assessments audited?", EHITS) == \
        "In Wandsworth, were these early help assessments audited?"
    assert standalone_question("And how many were open?", EHITS) == "In Wandsworth, how many were open (EHITS)?"
    assert standalone_question("When was it introduced?", EHITS) == "In Wandsworth, when was EHITS introduced?"


def test_follow_up_with_its_own_authority_gains_the_previous_topic():
    history = chat("What target did Windsor and Maidenhead's fostering recruitment strategy set?",
                   "The strategy set a target of recruiting 20 fostering households a year.")
    rewritten = standalone_question("Did Hammersmith and Fulham have a similar target in 2011?", history)
    assert rewritten.startswith("Did Hammersmith and Fulham have a similar")
    assert "fostering recruitment" in rewritten and rewritten.endswith("in 2011?")
    q = parse(rewritten)
    assert q.authorities == ("Hammersmith and Fulham",) and q.year == 2011
    history = chat("How many children were on child protection plans in Windsor and Maidenhead?", "80.")
    assert "child protection plans" in standalone_question("Did Wandsworth have the same number?", history)


def test_short_follow_up_gains_the_previous_topic():
    history = chat("What share of looked after children in Wandsworth had three or more placement moves?", "13.9%")
    rewritten = standalone_question("What was the national average?", history)
    assert rewritten.startswith("In Wandsworth, what was the national average (")
    assert "placement moves" in rewritten and "looked after children" in rewritten
    history = chat("Was Wandsworth's care leavers service judged inadequate?", "Yes.")
    assert standalone_question("Why?", history) == "In Wandsworth, why (care leavers service judged inadequate)?"
    history = chat("What was the persistent absence rate for looked after children in Windsor and Maidenhead?", "5.1%")
    assert standalone_question("And in Hammersmith and Fulham, what was the equivalent figure?", history) == \
        "In Hammersmith and Fulham, what was the equivalent figure (persistent absence rate)?"


@pytest.mark.parametrize("question", [
    "How many care leavers did Wandsworth lose touch with?",
    "What grade did Hillingdon get for adoption performance in 2013?",
    "Which borough had the most care leavers?",
])
def test_standalone_questions_are_unchanged(question):
    assert standalone_question(question, EHITS) == question
    assert standalone_question(question, []) == question


def test_a_chain_of_follow_ups_keeps_its_subject():
    history = chat(CP_QUESTION, "80.", "What about Wandsworth?", "...")
    assert standalone_question("And Hillingdon?", history) == \
        "How many children were on child protection plans in Hillingdon?"
    # a history that already ends with the question being asked
    assert standalone_question("What about Wandsworth?", chat(CP_QUESTION, "80.", "What about Wandsworth?")) == \
        "How many children were on child protection plans in Wandsworth?"


def test_small_talk_and_requests_for_more():
    assert standalone_question("Thanks!", EHITS) == "Thanks!"
    assert standalone_question("Tell me more", EHITS) == "What is EHITS in Wandsworth?"


def test_a_comparison_narrowed_or_widened():
    history = chat("Compare Wandsworth and Hammersmith and Fulham on adoption.", "...")
    assert standalone_question("What about Hillingdon?", history) == \
        "What do the reports say on adoption in Hillingdon?"
    assert standalone_question("And for Hillingdon and Windsor?", history) == \
        "Compare Hillingdon and Windsor and Maidenhead on adoption."


def test_a_report_named_relative_to_the_last_one_is_the_one_after_or_before_it():
    # 'Its next inspection' after a question about the 2017 report is the first report after 2017, not the
    # 2017 one again; 'its previous inspection' the last one before; a year of its own replaces the old one.
    history = chat("What was the outcome of Wandsworth's 2015 inspection?", "Inadequate.")
    assert standalone_question("What about its next inspection?", history) == \
        "What was the outcome of Wandsworth's inspection (the inspection after 2015)?"
    assert parse("What was the outcome of Wandsworth's inspection (the inspection after 2015)?").year is None
    history = chat("What did Ofsted's 2015 inspection of Hillingdon say about caseloads?", "They were high.")
    rewritten = standalone_question("Was that also a problem in its previous inspection?", history)
    assert rewritten.startswith("In Hillingdon, was that also a problem in its previous inspection (")
    assert "caseloads" in rewritten and rewritten.endswith("(the inspection before 2015)?")
    assert standalone_question("Was that still an issue at the 2013 inspection?", history).startswith(
        "In Hillingdon, was that still an issue at the 2013 inspection")
    # 'Since the previous inspection' is what changed, not which report: the old report stays.
    assert standalone_question("Had leaders improved it since the previous inspection?", history).startswith(
        "In Hillingdon (2015), ")


def test_the_topic_carried_into_a_short_follow_up_has_no_filler_words():
    history = chat("Did Wandsworth offer return home interviews to children who went missing, according to its "
                   "2015 inspection?", "Not to all of them.")
    rewritten = standalone_question("How did the council respond?", history)
    assert "return home interviews" in rewritten
    assert "according" not in rewritten and "went" not in rewritten


def _turns(question: str, answer: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_the_next_or_previous_report_is_dated_by_the_answer_when_the_question_named_no_year():
    history = _turns("What overall grade did North Northamptonshire receive in its first inspection?",
                     "Requires improvement to be good in all areas (report published 25 November 2022).")
    assert standalone_question("How did the next inspection compare?", history).endswith(
        "(the inspection after 2022)?")


def test_the_inspection_before_that_is_the_one_before_the_last_turns_report():
    history = _turns("What grade did Hull get for care leavers in its 2026 report?", "Outstanding.")
    rewritten = standalone_question("And in the inspection before that?", history)
    assert "care leavers" in rewritten and rewritten.endswith("(the inspection before 2026)?")


def test_how_did_that_compare_keeps_the_judgement_area_whole():
    history = _turns("How was help and protection graded in Slough's 2019 inspection?", "Requires improvement.")
    rewritten = standalone_question("How did that compare with the previous inspection?", history)
    assert "help and protection" in rewritten and "(the inspection before 2019)" in rewritten


def test_that_grade_and_that_before_a_preposition_carry_the_last_topic():
    grade = chat("How did Ofsted grade Wandsworth's services for children in care and care leavers in 2015?",
                 "Requires improvement (report published 2015).")
    assert "children in care and care leavers" in standalone_question("What was behind that grade?", grade)
    raised = chat("What did Ofsted say about early help in Wandsworth's 2015 inspection?", "It was underdeveloped.")
    assert "(early help)" in standalone_question("Had Ofsted raised that at the previous inspection too?", raised)


def test_that_report_is_the_report_talked_about_not_a_phrase_of_the_answer():
    # The answer's 'all judgements good (report published ...)' must not become 'that judgements good report',
    # which read as a question about a grade.
    grade = chat("What overall effectiveness grade did Wandsworth get in 2015?",
                 "Inadequate, with all judgements inadequate (report published 2015).")
    rewritten = standalone_question("Did that report raise any concerns about private fostering?", grade)
    assert "that report raise" in rewritten and "judgements" not in rewritten
    assert not parse_query(rewritten, ["Wandsworth"]).asks_judgement


def test_it_after_a_grade_question_is_the_area_graded_not_the_word_grade():
    grade = chat("What grade did adoption get in Wandsworth's 2015 report?", "Requires improvement (published 2015).")
    assert "why was adoption rated" in standalone_question("Why was it rated so poorly?", grade)


def test_since_then_at_another_report_and_the_inspection_before():
    grade = chat("What grade did Wandsworth get for help and protection in 2015?", "Inadequate (published 2015).")
    assert "since 2015" in standalone_question("Has that improved since?", grade)
    assert "(the inspection before 2015)" in standalone_question("Was that better or worse than at the inspection "
                                                                 "before?", grade)
    caseloads = chat("What did Ofsted's 2013 report say about caseloads in Hillingdon?", "They were high.")
    latest = standalone_question("What about at the most recent inspection?", caseloads)
    assert "caseloads" in latest and "most recent inspection" in latest and "2013" not in latest
