"""Answers an analyst can rely on (scripted model, default corpus): the area's grade from the judgements
table beside rosy prose, a why-question answered with reasons and the grade, and a question that names
an authority outside the active filter answered about the named one, aloud."""
from __future__ import annotations

import re

import pytest

from rag.answer.extractive import IMPROVE
from rag.assistant import Assistant
from tests.fake_llm import ScriptedChatModel, passage_with, scripted_engine


def rosy(prompt: str) -> str:
    """A model that quotes only the hopeful sentence about care leavers."""
    key = passage_with(prompt, "care leavers")
    return f"Care leavers in Wandsworth are supported by personal advisers [{key}]."


def test_a_rosy_answer_on_an_area_carries_the_areas_grade_from_the_table(default_settings):
    bot = Assistant(default_settings, engine=scripted_engine(ScriptedChatModel(script=rosy)))
    answer = bot.ask("How did Wandsworth do on care leavers?")
    first = answer.text.splitlines()[0]
    assert first.startswith("Wandsworth (2015): ") and "care leavers" in first and "inadequate [1]" in first
    assert answer.claims[0].verified and "care leavers" in answer.citations[0].paragraph.text.lower()


def test_each_cell_of_a_comparison_on_an_area_carries_that_authoritys_grade(default_settings):
    bot = Assistant(default_settings, engine=scripted_engine(ScriptedChatModel(script=rosy)))
    answer = bot.ask("Compare services for care leavers in Wandsworth and Windsor and Maidenhead.")
    cells = dict(zip(answer.table[0][1:], answer.table[1][1:]))
    assert re.match(r"Experiences and progress of care leavers — inadequate \(2015\) \[\d\]", cells["Wandsworth"])
    assert re.match(r"Experiences and progress of care leavers — requires improvement \(2015\) \[\d\]",
                    cells["Windsor and Maidenhead"])
    graded = [c for c in answer.claims if "— inadequate" in c.sentence or "— requires improvement" in c.sentence]
    assert len(graded) == 2 and all(c.verified for c in graded)
    assert len({c.n for c in answer.citations}) == len(answer.citations)      # one key per paragraph, in order


def test_a_why_question_gets_the_grade_and_the_reasons(default_settings):
    model = ScriptedChatModel(script=lambda prompt: "Because of weaknesses found by inspectors.")
    bot = Assistant(default_settings, engine=scripted_engine(model))
    answer = bot.ask("Why was Wandsworth's help and protection judged inadequate?")
    assert model.prompts, "a why-question is written by the engine from the report's reasons"
    assert answer.text.startswith("Wandsworth (2015): ") and "inadequate" in answer.text.splitlines()[0]


def test_a_question_naming_another_authority_than_the_filter_is_answered_about_it(assistant):
    answer = assistant.ask("How many children in Wandsworth were on child protection plans?",
                           authorities=["Hillingdon"])
    assert answer.text.startswith("The question names Wandsworth, outside the Authorities filter (Hillingdon): "
                                  "this answer is about Wandsworth.")
    assert {c.report.authority for c in answer.citations} <= {"Wandsworth"}


def test_a_why_question_is_answered_with_the_findings_of_the_areas_own_section(assistant):
    # The reasons rarely share the question's words: they are the weaknesses the area's section states.
    answer = assistant.ask("Why was Wandsworth's help and protection judged inadequate?")
    lines = answer.text.splitlines()
    assert lines[0].startswith("Wandsworth (2015): ") and "inadequate [1]" in lines[0]
    reasons = [c for c in answer.claims[1:] if c.verified]
    assert len(reasons) >= 3
    by_key = {c.n: c for c in answer.citations}
    # The section's own findings first; the executive summary's findings may follow.
    in_section = ["help and protection" in by_key[c.keys[0]].paragraph.headings[0].lower() for c in reasons]
    assert in_section[:2] == [True, True] and sum(in_section) >= 3
    assert all(re.search(r"\b(?:not|delay|drift|too|weak|lack|poor|insufficient)", c.sentence) for c in reasons)


@pytest.mark.parametrize("question", ["What held back Wandsworth's care leavers judgement?",
                                      "What was behind Wandsworth's care leavers grade?"])
def test_what_held_back_a_grade_is_a_why_question(assistant, question):
    answer = assistant.ask(question)
    assert answer.text.startswith("Wandsworth (2015): ") and len(answer.claims) >= 3


def test_two_things_asked_and_one_answered_is_an_answer(default_settings):
    # 'How many ..., and how were ... judged?': a verified sentence on the second part answers the question
    # in part, though it holds no number; it is not replaced by the refusal.
    def judged_only(prompt: str) -> str:
        key = passage_with(prompt, "failed to ensure")
        return ("The local authority has failed to ensure that there is sufficient suitable and safe "
                f"accommodation to meet the needs of care leavers [{key}].")
    bot = Assistant(default_settings, engine=scripted_engine(ScriptedChatModel(script=judged_only)))
    answer = bot.ask("How many care leavers in Wandsworth were placed in unsuitable housing, and how did "
                     "inspectors judge their accommodation?")
    assert not answer.abstained and "failed to ensure" in answer.text


def test_a_models_reason_is_verified_though_it_shares_no_word_with_the_question(assistant):
    from rag.answer.finish import check_groups
    from rag.answer.plan import plan
    the_plan = plan(assistant.searcher, "Why was Wandsworth's help and protection judged inadequate?", context_k=4)
    group = the_plan.groups[0]
    assert group.reasons == "weaknesses"
    # A finding the report gives under a heading that is not the area's, in none of the question's words.
    finding = next(p for p in group.passages if "help and protection" not in " ".join(p.hit.paragraph.headings).lower()
                   and "Lack of effective scrutiny" in p.text)
    text = (f"Senior leaders, elected members and managers were not aware of the serious deficits concerning unsafe "
            f"practice until this inspection [{finding.key}].")
    claim = check_groups(the_plan, [text])[0].claims[-1]
    assert claim.verified, claim.reason


def test_a_why_answer_whose_reasons_all_fail_the_check_gets_the_reports_reasons(default_settings):
    model = ScriptedChatModel(script=lambda prompt: "The passages report many weaknesses in many areas of work [1].")
    bot = Assistant(default_settings, engine=scripted_engine(model))
    answer = bot.ask("Why was Wandsworth's help and protection judged inadequate?")
    assert answer.engine.endswith("+ extractive")
    assert sum(c.verified for c in answer.claims) >= 3      # the grade line and the report's own reasons


def test_what_needs_to_improve_is_answered_from_the_reports_own_list(assistant):
    # The list's items rarely share the question's words; they sit under 'What does the local authority
    # need to improve?' and, asked about care leavers, those naming care leavers are the answer.
    answer = assistant.ask("What did Wandsworth need to improve for care leavers?")
    listed = [c for c in answer.citations if IMPROVE.search(" ".join(c.paragraph.headings))]
    assert len(listed) >= 2 and all("care leavers" in c.paragraph.text.lower() for c in listed)
    assert all(c.verified for c in answer.claims)


def test_each_authoritys_list_of_what_needs_to_improve_in_a_comparison(assistant):
    answer = assistant.ask("What did Hillingdon and Wandsworth each need to improve?")
    lines = answer.text.splitlines()
    assert lines[0].startswith("Hillingdon: ") and lines[1].startswith("Wandsworth: ")
    assert {c.report.authority for c in answer.citations} == {"Hillingdon", "Wandsworth"}
    assert all(IMPROVE.search(" ".join(c.paragraph.headings)) for c in answer.citations)


def test_a_why_question_naming_no_area_is_about_the_overall_grade(assistant):
    answer = assistant.ask("Why was Hillingdon judged to require improvement in 2013?")
    assert answer.text.startswith("Hillingdon (2013): Overall effectiveness — requires improvement [1].")
    assert sum(c.verified for c in answer.claims[1:]) >= 2


def test_a_why_question_on_a_report_without_an_overall_grade_takes_the_areas_with_the_grade_asked(assistant):
    # The bundled Wandsworth report lacks its first page: no overall row, three areas judged inadequate.
    answer = assistant.ask("Why was Wandsworth judged inadequate?")
    grades = [line for line in answer.text.splitlines() if " — " in line]
    assert len(grades) == 3 and all(line.endswith(tuple(f"inadequate [{n}]." for n in range(1, 9)))
                                    for line in grades)
    reasons = [c for c in answer.claims[3:] if c.verified]
    assert len(reasons) >= 3


def test_what_ofsted_wanted_improved_is_the_reports_list(assistant):
    for question in ("Even though Hillingdon was judged to require improvement, what did Ofsted want it to "
                     "improve?", "What did Ofsted tell Wandsworth to improve on care leavers?"):
        answer = assistant.ask(question)
        prose = " ".join(line for line in answer.text.splitlines() if " — " not in line)     # grade lines aside
        keys = {int(k) for k in re.findall(r"\[(\d+)\]", prose)}
        cited = [c for c in answer.citations if c.n in keys]
        assert cited and all(IMPROVE.search(" ".join(c.paragraph.headings)) for c in cited)


def test_prose_that_only_restates_the_tables_grade_is_said_once():
    from rag.answer.finish import _without_grade_lines
    grades = "Experiences and progress of care leavers — good (2023) [4]."
    prose = ("The experiences and progress of care leavers: good [5]. Personal advisers know their young people "
             "well [6]. The experiences and progress of care leavers are inadequate in one team [7].")
    assert _without_grade_lines(prose, grades) == ("Personal advisers know their young people well [6]. The "
                                                   "experiences and progress of care leavers are inadequate in one "
                                                   "team [7].")
