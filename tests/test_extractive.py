from rag.answer.extractive import compose, counted_words, counts, expected_kinds, has_kind
from rag.index.weights import word_weights
from rag.records import NOT_IN_REPORTS
from tests.helpers import hits_of, make_report, number_passages

REPORT = make_report(texts=[
    "Social workers visit children regularly. The council is not in contact with eight care leavers.",
    "The children in care council, known as CLICK, is outstanding.",
    "The Director of Children's Services has been in post since April 2014.",
    "There are 36 children subject to pre proceedings PLO and the average is 9.2 weeks.",
])
PASSAGES = number_passages(hits_of(REPORT))
WEIGHTS = word_weights([p.text for p in REPORT.paragraphs])


def test_the_kind_of_answer_is_read_from_the_question():
    assert expected_kinds("How many care leavers is the council out of touch with?") == {"number"}
    assert expected_kinds("When was the inspection?") == {"date"}
    assert expected_kinds("What is the children in care council called?") == {"name"}
    assert expected_kinds("Which team helps when a family's problems get worse?") == set()   # 'when' as a conjunction
    assert expected_kinds("Why was care judged to require improvement, when the other areas were good?") == set()
    assert expected_kinds("When Ofsted visited in 2019, what did it find about care leavers?") == set()
    assert expected_kinds("What did it find, and when was it published?") == {"date"}
    assert expected_kinds("Since when has the trust run children's services?") == {"date"}
    assert expected_kinds("What was the average social worker caseload in 2026?") == {"number"}


def test_a_length_of_time_written_in_words_answers_how_long():
    question = "How long do care leavers have to wait to get a council tenancy?"
    assert expected_kinds(question) == {"date"}
    assert has_kind("They sometimes still have to wait between four and eight months to be allocated a home.",
                    "date", question)
    assert not has_kind("Care leavers have a level of priority for district council tenancies.", "date", question)


def test_an_age_or_a_length_of_time_is_no_count_of_what_is_asked():
    question = "How many children were in care at the time of the October 2024 inspection?"
    assert not has_kind("Leaders support care leavers over 21 years and those aged 16 and 17.", "number", question)
    assert has_kind("Over 500 children have been identified as carers.", "number", question)
    assert has_kind("Timescales improved from 558 days to 401 days.", "number",
                    "By how much did the council shorten the time taken to place children?")
    assert expected_kinds("How much does the council spend on children's homes?") == {"money"}
    # The thing measured may be named before 'rate' or after 'was': a rate or a budget is still asked.
    assert expected_kinds("What social worker vacancy rate did Ofsted report for Northumberland?") == {"number"}
    assert expected_kinds("What was Rutland County Council's annual budget for children's social care?") == {"money"}
    assert expected_kinds("What did inspectors say about the rate of progress?") == set()
    assert expected_kinds("What was the social worker vacancy rate at the 2025 inspection?") == {"number"}
    assert expected_kinds("How big was the budget gap when the council issued its section 114 notice?") == {"money"}
    assert expected_kinds("How big is the fostering team?") == {"number"}


def test_a_name_is_a_proper_name_not_a_job_title():
    question = "What is the name of the Director of Children's Services?"
    assert not has_kind("The Director of Children's Services has been in post since April 2014.", "name", question)
    assert has_kind("The Director, Jane Smith, has been in post since April 2014.", "name", question)
    assert has_kind("There is an active children in care council, 'Kickback'.", "name", question)


def test_a_name_can_be_given_in_words_not_capitals():
    question = "What term do care leavers prefer to be called?"
    assert has_kind("Care leavers prefer to be known as care-experienced young people.", "name", question)
    assert not has_kind("Care leavers prefer to be called care leavers.", "name", question)   # the question's own words
    assert not has_kind("Care leavers prefer to stay close to their families.", "name", question)


def test_the_best_sentence_answers_with_its_key():
    answer = compose("How many care leavers is the council not in contact with?", PASSAGES, weights=WEIGHTS)
    assert answer == "The council is not in contact with eight care leavers [1]."


def test_the_glossary_matches_an_abbreviation_in_the_text():
    answer = compose("How many children were in the pre-proceedings stage of the Public Law Outline?", PASSAGES,
                     weights=WEIGHTS)
    assert "36 children" in answer and "[4]" in answer


def test_it_abstains_when_no_sentence_holds_what_is_asked():
    assert compose("What is the name of the Director of Children's Services?", PASSAGES, weights=WEIGHTS) == NOT_IN_REPORTS
    assert compose("What is the budget for road maintenance?", PASSAGES, weights=WEIGHTS) == NOT_IN_REPORTS
    assert compose("How much does the council spend on the 36 children?", PASSAGES, weights=WEIGHTS) == NOT_IN_REPORTS


def test_answers_stay_short():
    answer = compose("care leavers children council social workers", PASSAGES, max_words=20, weights=WEIGHTS)
    assert len(answer.split()) <= 30


def test_what_a_how_many_question_counts():
    assert counted_words("How many children were looked after in Wandsworth?") == {"children"}
    assert counted_words("How many care leavers does the council support?") == {"care", "leaver"}
    assert "children" in counted_words("How many looked after children live out of the borough?")
    assert counted_words("What did inspectors say about care leavers?") == set()
    children = frozenset({"children"})
    assert counts("At 31 October 2015, 220 children are being looked after.", children)
    assert counts("Twelve children looked after have an advocate.", children)
    assert not counts("The two virtual school head teachers support children looked after.", children)
    assert not counts("Attainment at Key Stage 2 exceeds that of other children.", children)


def test_a_number_of_the_thing_counted_beats_any_number():
    report = make_report(texts=[
        "The two virtual school head teachers ensure that children looked after are supported in school.",
        "On 3 March 2015, 102 children were looked after by the council.",
    ])
    passages = number_passages(hits_of(report))
    weights = word_weights([p.text for p in report.paragraphs])
    answer = compose("How many children are looked after?", passages, weights=weights)
    assert answer.startswith("On 3 March 2015, 102 children were looked after by the council [2].")


def test_a_grade_tables_header_row_is_never_an_answer():
    from rag.answer.verify import Passage
    from rag.records import Hit, Paragraph, Report
    text = "Judgement | Grade\nOverall effectiveness | Outstanding"
    report = Report(id="r", file="r.pdf", sha256="r", title="Inspection of Eastshire", authority="Eastshire",
                    report_type="ofsted_ilacs", date="2025-05-07", year=2025)
    passage = Passage(1, Hit(Paragraph("r:1", "r", 0, text, text, ("Inspection",), None, 1, kind="table"), report, 1.0))
    assert compose("What judgement grade did Eastshire get for overall effectiveness?", [passage]) == \
        "Overall effectiveness | Outstanding [1]."


def test_a_reports_front_matter_answers_only_when_or_who():
    report = make_report(texts=["Inspection dates: 11 to 22 October 2021 Lead inspector: Paula Jones, HMI. "
                                "The services provided to care leavers have deteriorated."])
    passages = number_passages(hits_of(report))
    answer = compose("Knowsley's inspection of 11-22 October 2021: what happened to services for care leavers?",
                     passages)
    assert answer == "The services provided to care leavers have deteriorated [1]."
    assert "Paula Jones" in compose("Who was the lead inspector of the October 2021 inspection?", passages)


def test_a_date_is_not_the_number_a_how_many_question_asks_for():
    report = make_report(texts=["Inspection dates: 14 to 18 March 2022 Lead inspector: Jane Smith, HMI",
                                "Social workers say they are well supported by their managers."], date="2022-05-01")
    passages = number_passages(hits_of(report))
    assert compose("How many children were in care at the March 2022 inspection?", passages) == NOT_IN_REPORTS
    assert has_kind("At 31 March 2022, 220 children were in care.", "number", "How many children?")


def test_a_sentence_is_read_with_the_one_before_it_that_says_what_it_is_about():
    report = make_report(texts=["Inspectors saw many examples of children in care not having timely access to mental "
                                "health and therapeutic support. In some instances, there were unacceptable waiting "
                                "times of up to 30 weeks from referral to receiving a service."])
    answer = compose("How long were some children in care waiting for mental health and therapeutic support?",
                     number_passages(hits_of(report)))
    assert "30 weeks" in answer


def test_did_the_report_say_anything_about_asks_about_the_thing_in_the_reports_words():
    report = make_report(texts=["Practice for children with a plan of adoption is an area of excellence. There has been "
                                "no disruption to any adoption arrangements in 10 years."])
    # 'adoption' is common in the corpus, so the answer rests on 'breakdowns', which the report calls 'disruption'.
    weights = word_weights([p.text for p in report.paragraphs] + [f"Adoption paragraph {i}." for i in range(50)])
    answer = compose("Did that report say anything about adoption breakdowns?", number_passages(hits_of(report)),
                     weights=weights)
    assert "no disruption" in answer


def test_a_question_about_rates_or_numbers_in_the_plural_asks_for_a_number():
    assert "number" in expected_kinds("What were the NEET rates for care leavers?")
    assert "number" in expected_kinds("What were the numbers of children on plans?")


def test_a_sentence_that_opens_with_this_is_read_with_the_one_it_refers_to():
    report = make_report(texts=[
        "Too many care leavers are not in education, employment or training. This accounts for 27% of 16 to "
        "18-year-olds, rising to 51% for those aged 19 to 21.",
        "At the present time, 27% of young people looked after aged 16 to 18 are not in education, employment or "
        "training (NEET)."])
    answer = compose("What were the rates of care leavers not in education, employment or training?",
                     number_passages(hits_of(report)))
    assert "51%" in answer


def test_who_asks_for_a_name_and_an_abbreviation_of_the_question_is_none():
    question = "Who was Wandsworth's director of children's services in 2015?"
    assert expected_kinds(question) == {"name"}
    assert not has_kind("The experienced Executive Director (DCS) leads a strong team.", "name", question)
    assert has_kind("The director, Jane Smith, leads a strong team.", "name", question)


def test_a_count_of_other_things_is_no_answer_to_how_many():
    question = "How many children were in care at the time of the 2025 inspection?"
    assert not has_kind("Children in care can join two forums that support them.", "number", question)
    assert not has_kind("By the end of Year 11, many of these children are not well prepared.", "number", question)
    assert has_kind("Over 500 children have been identified as carers.", "number", question)
    assert has_kind("Inspectors found 94 cases where there was delay.", "number", question)   # figures stay
    assert has_kind("It is not in contact with eight despite efforts.", "number",
                    "How many care leavers is the council out of touch with?")


def test_the_reports_counterpoint_comes_with_the_finding_it_qualifies():
    from rag.answer.citations import check
    report = make_report(texts=[
        "The local authority designated officer service is effective and well managed. However, the police do "
        "not always attend meetings, which could delay the response to concerns about professionals.",
        "Children in care see their social workers regularly."])
    passages = number_passages(hits_of(report))
    question = "Is there any problem with the LADO?"
    answer = compose(question, passages)
    assert answer == ("The local authority designated officer service is effective and well managed [1]. However, "
                      "the police do not always attend meetings, which could delay the response to concerns about "
                      "professionals [1].")
    # The 'However' sentence shares no word with the question, but it is about what the sentence before is about.
    assert all(c.verified for c in check(answer, passages, question=question).claims)
    # A question that asks for a number gets the number, not the paragraph's asides.
    assert "However" not in compose("How many LADO referrals were there?", passages)
