"""The citation check reads meaning, not only shared words: a claim that flips the report's polarity,
overstates its quantifier, moves a number to another subject or passes an earlier inspection's grade off
as current is not verified. Measured on tests/gold/faithfulness.jsonl, pairs read from the reports."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer.meaning import meaning_problem, numbers_swapped
from rag.answer.verify import Passage, verify_claim
from rag.records import Hit, Paragraph, Report

GOLD = Path(__file__).parent / "gold" / "faithfulness.jsonl"


@pytest.mark.parametrize("claim, support, why", [
    ("Strategy discussions in Wandsworth comply with statutory guidance.",
     "When risk is identified and a strategy discussion held, the strategy discussions do not comply with "
     "statutory guidance.", "negation"),
    ("Looked after children achieve above the national average at all key stages.",
     "Educational attainment of looked after children is below that of other looked after children nationally "
     "at all key stages.", "'below'"),
    ("All referrals are dealt with effectively by the triage team.",
     "Most referrals to children's social care services are dealt with effectively by the triage team.", "'All'"),
    ("In Hammersmith and Fulham, 82% of looked after children had dental checks.",
     "High levels of performance are achieved in relation to dental checks, where the current proportion of "
     "92.1% significantly exceeds the national figure. Elsewhere in England the typical figure reported for "
     "children in need across all councils is lower, at 82% overall.", "something else"),
    ("Wandsworth's safeguarding arrangements were judged to be good.",
     "The previous inspection of the local authority's safeguarding arrangements was in May 2012. The local "
     "authority was judged to be good.", "earlier inspection"),
    ("Barnsley's new specialist team has already reduced risks for children at risk of sexual exploitation.",
     "A specialist team was set up in April 2014, and this is a positive additional resource; however, it is too "
     "early to measure direct impact for children.", "too early"),
    ("The 2011 inspection judged Hammersmith and Fulham's adoption service to be good.",
     "This process is supported well by the adoption service, which was judged good in the 2010 Ofsted "
     "inspection.", "the 2010 inspection"),
    ("Worcestershire's children's services are inadequate.",
     "The local authority had previously been judged inadequate in 2016.", "earlier inspection"),
    ("Children at risk in Wandsworth routinely waited 24 days to be seen after a referral.",
     "Delays in seeing children at risk have been as long as 10 and 12 days, and in one case 24 days, from the "
     "time of the referral.", "'routinely'"),
    ("The experiences and progress of care leavers in Hillingdon were graded good.",
     "The graded judgement for adoption performance is good.", "good for adoption performance"),
])
def test_what_the_report_does_not_say_is_named(claim, support, why):
    assert why in meaning_problem(claim, support, paragraph=support, report_year="2015")


def test_a_faithful_paraphrase_passes():
    support = ("Child protection enquiries are undertaken in a timely manner. They are led by qualified and "
               "suitably experienced social workers.")
    assert meaning_problem("Child protection enquiries are carried out in a timely way by qualified social "
                           "workers.", support, paragraph=support) == ""


def test_a_grade_stated_only_for_another_area_in_a_heading_does_not_support_the_claim():
    paragraph = Paragraph("r:p", "r", 0, "The graded judgement for adoption performance is good.",
                          "The graded judgement for adoption performance is good.",
                          ("The experiences and progress of children looked after and achieving permanence require "
                           "improvement.",))
    report = Report("r", "r.pdf", "", "", "Hillingdon", "ofsted_sif", "2013", 2013)
    cited = [Passage(1, Hit(paragraph, report, 1.0))]
    wrong = verify_claim("Hillingdon's adoption performance was judged to require improvement.", cited)
    assert not wrong.verified and "looked after" in wrong.reason
    assert verify_claim("Hillingdon's adoption performance was judged good.", cited).verified


@pytest.mark.parametrize("claim, support", [
    ("Leadership in Sutton was judged good.", "Leadership, management and governance are good."),
    ("The impact of leaders was judged good.", "Leadership, management and governance are good."),
    # 'Safeguarding in the fostering service' is no judgement area: the rule cannot decide, so it is silent.
    ("Ofsted rated safeguarding in the fostering service as adequate.",
     "Safeguarding arrangements in the inspections of adoption and fostering services were judged to be good "
     "and adequate respectively."),
])
def test_a_grade_given_to_the_same_area_under_another_name_passes(claim, support):
    assert meaning_problem(claim, support, paragraph=support) == ""


def test_a_number_given_to_the_other_noun_of_a_pair_is_refused():
    support = "At the end of September 2017, Hillingdon was the corporate parent for 294 children and 397 care leavers."
    assert "397 care" in meaning_problem("Hillingdon was looking after 397 children at the end of September 2017.",
                                         support, paragraph=support)
    assert meaning_problem("Hillingdon was corporate parent to 397 care leavers.", support, paragraph=support) == ""


@pytest.mark.parametrize("claim, support", [
    ("Only three approved adoptive families are waiting for a match.",
     "At the start of 2016 there were 20 approved adoptive families waiting. Currently there are only 3 families "
     "waiting a match."),
    ("The council is not in contact with eight care leavers.",
     "The council is in contact with 90% of care leavers. It is not in contact with eight despite efforts."),
    ("Writing attainment was 39% above looked after children nationally.",
     "Reading was 29% above, in writing 39% above and in mathematics 28% above; at Key Stage 2, 39 higher."),
])
def test_a_number_whose_noun_the_report_elides_or_qualifies_is_not_refused(claim, support):
    assert numbers_swapped(claim, support) == ""


def test_words_the_paragraph_only_negates_are_not_supported_by_its_other_sentences():
    paragraph = ("Services for children in Coventry now require improvement to be good. While these improvements "
                 "are evident, they are not yet fully embedded.")
    quote = "Services for children in Coventry now require improvement to be good."
    assert "only with a negation" in meaning_problem("The improvements in Coventry's children's services are now "
                                                     "fully embedded.", quote, paragraph=paragraph)


@pytest.mark.parametrize("claim, support", [
    ("In April 2014 Barnsley set up a specialist team, though it was too soon to judge its impact.",
     "A specialist team was set up in April 2014; however, it is too early to measure direct impact for children."),
    ("The 2015 inspection judged help and protection inadequate.",
     "Since the last inspection in 2012 services have declined. Help and protection were judged inadequate in 2015."),
    ("Senior leaders have a clear understanding of strengths.",
     "Senior leaders have a clear understanding of strengths. They do not yet understand every weakness."),
])
def test_what_the_new_rules_must_not_refuse(claim, support):
    assert meaning_problem(claim, support, paragraph=support) == ""


def test_precision_and_recall_of_verified_on_the_faithfulness_set():
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    verified = []
    for row in rows:
        paragraph = Paragraph("r:p", "r", 0, row["paragraph"], row["paragraph"])
        report = Report("r", "r.pdf", "", "", row["authority"], "ofsted_sif", str(row["report_year"]), row["report_year"])
        if verify_claim(row["claim"], [Passage(1, Hit(paragraph, report, 1.0))], question=row["question"]).verified:
            verified.append(row)
    precision = sum(r["supported"] for r in verified) / len(verified)
    recall = sum(r["supported"] for r in verified) / sum(r["supported"] for r in rows)
    # Word overlap alone scored precision 0.55 (recall 0.91) on this set: the meaning checks must keep
    # their gain (0.774 / 0.786 here, without headings; the topic check traded 0.016 of recall for 0.017
    # of precision, the side a user's trust depends on). The target (precision 0.98) is not
    # reached: see bench/faithfulness.py.
    assert precision >= 0.77 and recall >= 0.78, (precision, recall)


def test_a_sentence_the_paragraph_states_word_for_word_is_what_the_report_says():
    # Gateshead 2019: 'all children' in a quoted sentence is the report's own phrase, even where another
    # sentence of the paragraph says 'some children'.
    paragraph = ("Some children who go missing are not offered a return home interview. As a result of "
                 "inspection, the local authority responded swiftly so that all children are offered an interview.")
    quoted = "As a result of inspection, the local authority responded swiftly so that all children are offered an interview [1]."
    assert meaning_problem(quoted, paragraph, paragraph=paragraph) == ""
    # Reworded, the same 'all children' is still checked against 'some children'.
    assert meaning_problem("The council now offers all children an interview.", paragraph, paragraph=paragraph)


def test_a_negation_governs_its_own_phrase_not_the_next():
    # 'a lack of awareness of private fostering': the awareness is lacking; the two children privately
    # fostered are a fact, not its opposite.
    support = ("There is a lack of awareness of private fostering arrangements; only two children were "
               "identified as privately fostered at the time of the inspection.")
    assert meaning_problem("Two children had been identified as privately fostered.", support, paragraph=support) == ""
    assert "negation" in meaning_problem("There is good awareness of private fostering arrangements.", support,
                                         paragraph=support)


def test_a_month_the_question_names_is_context_like_its_year():
    paragraph = Paragraph("r:p", "r", 0, "Only two children were identified as privately fostered.",
                          "Only two children were identified as privately fostered.")
    report = Report("r", "r.pdf", "", "", "Waltham Forest", "ofsted_sif", "2015-01-20", 2015)
    claim = "In the inspection that took place in November 2014, two children had been identified as privately fostered."
    passages = [Passage(1, Hit(paragraph, report, 1.0))]
    assert verify_claim(claim, passages, question="In the November 2014 inspection, how many children were "
                                                  "privately fostered?").verified
    assert not verify_claim(claim, passages, question="How many children were privately fostered?").verified


def test_a_claim_that_only_says_the_question_back_is_no_evidence():
    text = ("Services for care leavers in Derbyshire have been provided through a commissioned arrangement for "
            "the last 12 years. The local authority took the leaving care service back in-house in July 2019.")
    paragraph = Paragraph("r:p", "r", 0, text, text)
    passages = [Passage(1, Hit(paragraph, Report("r", "r.pdf", "", "", "Derbyshire", "ofsted_ilacs", "2019", 2019),
                               1.0))]
    question = "When did Derbyshire take its leaving care service back in-house?"
    echo = verify_claim("Yes, Ofsted found that Derbyshire took its leaving care service back in-house.", passages,
                        question=question)
    assert not echo.verified and "restates the question" in echo.reason
    assert verify_claim("Derbyshire took the leaving care service back in-house in July 2019.", passages,
                        question=question).verified                      # the date is the evidence
    # The report's own sentence is evidence however closely the question followed its words.
    assert verify_claim("The local authority took the leaving care service back in-house in July 2019.", passages,
                        question="Did the local authority take the leaving care service back in-house in July 2019?"
                        ).verified
