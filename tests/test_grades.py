"""The judgement vocabulary: the sentence forms in which the seeds state a grade, and the ones that are not
statements (grade definitions, grades of other services)."""
from __future__ import annotations

import pytest

from rag.ofsted.grades import (
    AREAS,
    SIF_AREAS,
    find_statements,
    grade_in,
    is_grade_statement,
    mentions_area,
    normalise_grade,
)


def stated(text: str) -> list[tuple[str, str]]:
    return [(s.area, s.grade) for s in find_statements(text)]


@pytest.mark.parametrize("text, expected", [
    # Hillingdon 2013
    ("The overall judgement is requires improvement.", [("overall_effectiveness", "requires improvement")]),
    ("The graded judgement for adoption performance is good.", [("adoption_performance", "good")]),
    ("The graded judgement for the experiences and progress of care leavers is requires improvement.",
     [("care_leavers", "requires improvement")]),
    ("The experiences and progress of children who need help and protection require improvement.",
     [("help_and_protection", "requires improvement")]),
    ("Leadership, management and governance requires improvement", [("leadership_management_governance",
                                                                     "requires improvement")]),
    ("The effectiveness of the Local Safeguarding Children Board (LSCB) requires improvement.",
     [("lscb", "requires improvement")]),
    # Wandsworth
    ("The graded judgement about the experiences and progress of care leavers is that it is inadequate",
     [("care_leavers", "inadequate")]),
    ("The graded judgement for adoption performance is that it requires improvement.",
     [("adoption_performance", "requires improvement")]),
    ("Leadership, management and governance are inadequate. Lack of effective scrutiny by senior leaders",
     [("leadership_management_governance", "inadequate")]),
    ("The Local Safeguarding Children Board (LSCB) in Wandsworth requires improvement to be good.",
     [("lscb", "requires improvement")]),
    ("The experiences and progress of children looked after and achieving permanence | Requires improvement",
     [("looked_after_permanence", "requires improvement")]),
    # Windsor and Maidenhead
    ("The overall judgement is that children's services require improvement",
     [("overall_effectiveness", "requires improvement")]),
    ("The graded judgement about the experience and progress of care leavers is that it requires improvement",
     [("care_leavers", "requires improvement")]),
    ("Key judgement | Judgement grade\nLeadership, management and governance | Requires improvement",
     [("leadership_management_governance", "requires improvement")]),
    ("2.1 Adoption performance | Requires Improvement", [("adoption_performance", "requires improvement")]),
    # Hammersmith and Fulham (2011 framework)
    ("The overall effectiveness of the council and its partners is good.", [("overall_effectiveness", "good")]),
    ("Ambition and prioritisation are outstanding.", [("ambition_prioritisation", "outstanding")]),
    ("Safeguarding arrangements for looked after children are good.", [("staying_safe", "good")]),
    ("Outcomes for economic well-being are good.", [("economic_wellbeing", "good")]),
    ("Equality and diversity | Outstanding", [("equality_diversity", "outstanding")]),
    # A SIF front page's headline with no authority named (Luton 2016)
    ("Children’s services require improvement to be good", [("overall_effectiveness", "requires improvement")]),
    ("Children’s services in Suffolk County Council are good.", [("overall_effectiveness", "good")]),
    # The 2012-13 looked after children inspections (Kent, Sandwell 2013)
    ("The capacity to improve services for looked after children and young people in Kent is good.",
     [("capacity_for_improvement", "good")]),
    ("Overall effectiveness for looked after children is inadequate.", [("overall_effectiveness", "inadequate")]),
])
def test_statements_in_the_seeds(text, expected):
    assert stated(text) == expected


def test_overlapping_areas_keep_the_longest():
    # 'leadership and management' inside a sentence about safeguarding services: the 2011 area, once.
    assert stated("The leadership and management of safeguarding services are outstanding.") == \
        [("leadership_management", "outstanding")]
    assert stated("Leadership, management and governance are inadequate.") == \
        [("leadership_management_governance", "inadequate")]


def test_two_statements_in_one_paragraph():
    text = ("The graded judgement for adoption performance is good. The graded judgement for the experiences and "
            "progress of care leavers is requires improvement.")
    assert stated(text) == [("adoption_performance", "good"), ("care_leavers", "requires improvement")]
    starts = [s.start for s in find_statements(text)]
    assert text[starts[1]:].startswith("The graded judgement for the experiences")


@pytest.mark.parametrize("text", [
    # The grade scale's definitions at the end of every SIF report.
    "An LSCB requires improvement if it does not yet demonstrate the characteristics of good.",
    "A local authority that is inadequate is providing services where there are widespread or serious failures",
    "In a local authority that requires improvement, there are no widespread or serious failures",
    "An LSCB that is good coordinates the activity of statutory partners and monitors the effectiveness",
    # Grades of something else, or a grade word with no area.
    "The previous inspection of Hillingdon's services for looked after children was in December 2009. "
    "The Local Authority was judged to be good.",
    "The children in care council, known as CLICK, is outstanding.",
    "Care leavers have good relationships with their social workers and personal advisers.",
    "Children’s services good practice is shared with partners.",
    "Ofsted ratings for the homes are; Merrifields - Outstanding, HCRC - Good and Charville - Good.",
])
def test_not_statements(text):
    assert stated(text) == []
    assert not is_grade_statement(text)


def test_grade_words():
    assert normalise_grade("Requires  Improvement") == "requires improvement"
    assert normalise_grade("require improvement") == "requires improvement"
    assert normalise_grade("Inadequate") == "inadequate"
    assert grade_in("Grade 1 (outstanding)") == "outstanding"
    assert grade_in("Grade 3 (adequate)") == "adequate"
    assert grade_in("Requires Improvement") == "requires improvement"
    assert grade_in("Capacity for improvement") is None


def test_area_vocabulary():
    assert set(SIF_AREAS) <= set(AREAS)
    assert mentions_area("the experiences and progress of care leavers")
    assert mentions_area("Health outcomes of looked after children")
    assert not mentions_area("Foster care recruitment")
