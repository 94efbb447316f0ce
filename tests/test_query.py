"""Question understanding: authorities and years in a question, report kind, comparisons, judgements,
expansions."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rag.ofsted import authorities
from rag.ofsted.glossary import expand
from rag.ofsted.grades import AREAS
from rag.search import followup
from rag.search.question import Query, parse_query

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ("Hillingdon", "Hammersmith and Fulham", "Wandsworth", "Windsor and Maidenhead")


def parse(question: str, corpus=CORPUS) -> Query:
    return parse_query(question, corpus)


# ------------------------------------------------------------------------------------------- data

def test_glossary_entries_are_complete():
    data = tomllib.loads((ROOT / "rag/ofsted/data/glossary.toml").read_text(encoding="utf-8"))
    assert len(data["abbreviation"]) >= 55
    assert all(e["short"] and e["long"] for e in data["abbreviation"])
    assert all(len(e["terms"]) >= 2 for e in data["synonym"])


# ------------------------------------------------------------------------------ authorities in a question

def test_question_authorities_in_order_and_unknown_ones():
    q = parse("How do Windsor and Maidenhead and LBHF compare with Kensington and Chelsea?")
    assert q.authorities == ("Windsor and Maidenhead", "Hammersmith and Fulham")
    assert q.unknown_authorities == ("Kensington and Chelsea",)
    q = parse("What judgement did Ofsted give the Royal Borough of Kensington and Chelsea for care leavers?")
    assert q.authorities == () and q.unknown_authorities == ("Kensington and Chelsea",)


@pytest.mark.parametrize("question, expected", [
    ("What did H&F's peer review advise?", "Hammersmith and Fulham"),
    ("How many foster carers does Hammersmith have?", "Hammersmith and Fulham"),
    ("What is RBWM's rate of children looked after?", "Windsor and Maidenhead"),
    ("What happened in Windsor?", "Windsor and Maidenhead"),
    ("what about wandsworth", "Wandsworth"),
    ("How did the royal borough do on adoption?", "Windsor and Maidenhead"),
])
def test_aliases_in_questions(question, expected):
    assert parse(question).authorities == (expected,)


def test_the_royal_borough_needs_a_single_royal_borough_in_the_corpus():
    assert parse("How did the royal borough do?", CORPUS + ("Kensington and Chelsea",)).authorities == ()


def test_corpus_names_outside_the_list_and_in_other_spellings():
    q = parse_query("What did Testshire say about adoption?", ["Testshire", "London Borough of Hillingdon"])
    assert q.authorities == ("Testshire",)
    assert parse_query("And Hillingdon?", ["London Borough of Hillingdon"]).authorities == ("Hillingdon",)
    assert parse_query("How many care leavers are there?", ["Wandsworth"]).authorities == ("Wandsworth",)


# ------------------------------------------------------------------------------------------- years

@pytest.mark.parametrize("question, year", [
    ("Which Hillingdon team helps families, according to the 2013 inspection?", 2013),
    ("How many children were in pre-proceedings in Hillingdon in 2017?", 2017),
    ("What initiative does Hillingdon use for soft intelligence (2017)?", 2017),
    ("What local factor makes recruitment hard, according to the 2017 overview?", 2017),
    ("How was Wandsworth's leadership graded when inspected in 2015?", 2015),
    ("Which pilot starting in April 2015 helps Windsor and Maidenhead?", None),
    ("How much did the number fall between 2006-07 and March 2011?", None),
    ("What was the absence rate by the end of July 2013, and what had it been in 2012?", None),
    ("How did numbers change between March 2013 (Ofsted) and September 2017 (council overview)?", None),
    ("How many care leavers did Wandsworth have?", None),
])
def test_report_year(question, year):
    assert parse(question).year == year


def test_all_years_and_years_per_authority():
    q = parse("How were care leavers judged in Hillingdon (2013), Wandsworth (2015) and Windsor and Maidenhead (2015)?")
    assert q.year is None and q.years == (2013, 2015)
    assert q.authority_years == (("Hillingdon", 2013), ("Wandsworth", 2015), ("Windsor and Maidenhead", 2015))
    assert q.year_for("Hillingdon") == 2013 and q.year_for("Wandsworth") == 2015
    assert parse("How much did the number fall between 2006-07 and March 2011?").years == (2006, 2007, 2011)
    q = parse("Did Hammersmith and Fulham have a similar target in 2011?")
    assert q.year == 2011 and q.year_for("Hammersmith and Fulham") == 2011


# ------------------------------------------------------------------------------------- report kind

@pytest.mark.parametrize("question, kind", [
    ("What did Ofsted say about Wandsworth's LADO?", "inspection"),
    ("According to the 2013 inspection, which team helps?", "inspection"),
    ("What does Hillingdon's 2017 overview say about fostering?", "overview"),
    ("What did the council's own report say about care leavers?", "overview"),
    ("What did the scrutiny committee paper say?", "overview"),
    ("What does the self-evaluation say about caseloads?", "self-assessment"),
    ("What did the LSCB annual report find?", "annual-report"),
    ("What grade did Wandsworth receive for adoption performance?", "inspection"),
    ("How did numbers change between March 2013 (Ofsted) and September 2017 (council overview)?", None),
    ("How many care leavers does Wandsworth have?", None),
])
def test_report_kind(question, kind):
    assert parse(question).report_kind == kind


# ---------------------------------------------------------------------------------------- expansion

def test_abbreviations_expand_to_long_forms():
    q = parse("LAC placement moves in Wandsworth")
    assert "looked after children" in q.expansions
    assert q.search_text.startswith("LAC placement moves in Wandsworth ")
    assert "looked after children" in q.search_text
    assert "early help assessment" in expand("How many EHAs were open?")          # plural abbreviation
    assert "independent reviewing officer" in expand("what do iros do")           # lower case, 3+ letters


def test_long_forms_expand_to_abbreviations():
    added = expand("How many looked after children had three placement moves?")
    assert {"LAC", "CLA"} <= set(added)
    assert "children looked after" not in added                 # same words: nothing to add
    assert "placement stability" in added                       # a near-synonym
    assert "CPP" in expand("children on child protection plans") and "SGO" in expand("special guardianship orders")
    assert "leaving care" in expand("What support do care leavers get?")


def test_words_that_are_ordinary_words_in_lower_case_are_not_abbreviations():
    assert expand("a mash of ideas and pep talks") == ()
    assert "multi-agency safeguarding hub" in expand("How does the MASH work?")


# -------------------------------------------------------------------------------------- comparison

@pytest.mark.parametrize("question, authorities", [
    ("How long had the LSCB chairs in Hillingdon and in Windsor and Maidenhead been in post?",
     ("Hillingdon", "Windsor and Maidenhead")),
    ("Compare adoption in Wandsworth versus Hillingdon.", ("Wandsworth", "Hillingdon")),
    ("Wandsworth vs RBWM on persistent absence", ("Wandsworth", "Windsor and Maidenhead")),
    ("How many children live in each of the four boroughs covered by the corpus?", CORPUS),
    ("Which borough had the most care leavers?", CORPUS),
    ("How does Wandsworth differ from the other boroughs on caseloads?",
     ("Wandsworth", "Hillingdon", "Hammersmith and Fulham", "Windsor and Maidenhead")),
    ("In all the reports, what is said about CSE?", CORPUS),
])
def test_comparisons(question, authorities):
    q = parse(question)
    assert q.is_comparison and q.authorities == authorities


@pytest.mark.parametrize("question", [
    "What was school attendance for Windsor and Maidenhead's looked after children, and how did it compare nationally?",
    "How many different types of placement does Wandsworth use?",
    "Did both parents attend conferences in Hillingdon?",
])
def test_not_comparisons(question):
    assert not parse(question).is_comparison


def test_topic_drops_authorities_years_and_comparison_words():
    assert parse("Compare persistent absence from school among looked after children in Wandsworth and "
                 "Windsor and Maidenhead.").topic == "persistent absence from school among looked after children."
    assert parse("How were services for care leavers judged in Hillingdon (2013), Wandsworth (2015) and "
                 "Windsor and Maidenhead (2015)?").topic == "How were services for care leavers judged?"
    assert parse("Why is turnover high in Hillingdon, and how many children were identified?").topic == \
        "Why is turnover high, and how many children were identified?"
    assert parse("What is the name of Wandsworth's Director of Children's Services?").topic == \
        "What is the name of Director of Children's Services?"


def test_topic_drops_the_words_that_point_at_a_report():
    # They chose the report; searched for, they would rank paragraphs about inspections above the topic's.
    assert parse("In Wandsworth, had that improved by the next inspection (Ofsted, private fostering) "
                 "(the inspection after 2013)?").topic == "had that improved (Ofsted, private fostering)?"
    assert parse("What did Hillingdon's latest report say about caseloads?").topic == \
        "What did latest report say about caseloads?"      # no preposition before it: kept
    assert parse("How were care leavers doing in its previous inspection?").topic == "How were care leavers doing?"
    # A month and year that name the inspection go with it; a month and year of data stay.
    assert parse("When Ofsted inspected Wandsworth in July 2019, how many children were referred?").topic == \
        "When Ofsted inspected, how many children were referred?"
    assert "31 March 2015" in parse("How many children were on plans in Wandsworth at 31 March 2015?").topic
    assert parse("How many children was Wandsworth looking after at the time of its 2015 inspection?").topic == \
        "How many children was looking after?"
    # Reports say what changed 'since the last inspection': that stays.
    assert "since the last inspection" in parse("Has Wandsworth improved since the last inspection?").topic


# --------------------------------------------------------------------------------------- judgements

@pytest.mark.parametrize("question, area", [
    ("What overall judgement did Windsor and Maidenhead's children's services receive from Ofsted in 2015?",
     "overall_effectiveness"),
    ("What grade did Wandsworth receive for adoption performance?", "adoption_performance"),
    ("How were services for care leavers judged in Hillingdon (2013) and Wandsworth (2015)?", "care_leavers"),
    ("Compare the leadership, management and governance judgements for Hillingdon and Wandsworth.",
     "leadership_management_governance"),
    ("How was Wandsworth rated on leadership?", "leadership_management_governance"),
    ("How was the leadership and management of Hammersmith and Fulham's looked after children's service "
     "graded in 2011?", "leadership_management"),
    ("What grade did Hammersmith and Fulham get for keeping its looked after children safe ('staying safe') "
     "in 2011?", "staying_safe"),
    ("What did Ofsted conclude in 2013 about Hillingdon's services for children looked after and achieving "
     "permanence?", "looked_after_permanence"),
    ("How was the effectiveness of Hillingdon's LSCB judged?", "lscb"),
    ("Was help and protection in Wandsworth rated inadequate?", "help_and_protection"),
    ("What grade did H&F get for being healthy?", "being_healthy"),
    ("How was H&F's capacity to improve graded?", "capacity_for_improvement"),
    ("What was the judgement on enjoying and achieving in Hammersmith and Fulham?", "enjoying_achieving"),
    ("How was equality and diversity graded in 2011 for H&F?", "equality_diversity"),
])
def test_judgement_areas(question, area):
    q = parse(question)
    assert q.asks_judgement and q.judgement_area == area
    assert set(q.judgement_areas) <= set(AREAS)


def test_judgement_framework_and_ambiguity():
    q = parse("What was the overall effectiveness of looked after children's services in H&F in 2011?")
    assert q.judgement_area == "overall_effectiveness" and q.judgement_scope == "looked_after"
    q = parse("What grades did Windsor and Maidenhead get for adoption and for care leavers?")
    assert q.judgement_area is None and q.judgement_areas == ("adoption_performance", "care_leavers")
    q = parse("Which Hillingdon team helps families with intensive support?")
    assert not q.asks_judgement and q.judgement_areas == ()
    # 'Overall effectiveness' named beside another area is asked for too, not a manner of speaking.
    q = parse("In the 2013 inspection of Hillingdon's looked after children services, how were overall "
              "effectiveness and capacity to improve graded?")
    assert q.judgement_areas == ("overall_effectiveness", "capacity_for_improvement")


# ------------------------------------------------------------------------------------------ imports

def test_names_moved_out_are_still_importable_from_here():
    from rag.ofsted.authorities import find_authorities_in_text
    from rag.search.followup import standalone_question
    from rag.search.question import canonical_authority
    assert canonical_authority is authorities.canonical_authority
    assert find_authorities_in_text is authorities.find_authorities_in_text
    assert standalone_question is followup.standalone_question
    with pytest.raises(ImportError):
        from rag.search.question import no_such_name  # noqa: F401


def test_required_improvement_in_the_past_tense_asks_for_a_judgement():
    assert parse_query("What were the main reasons help and protection in Bolton required improvement in 2014?",
                       ["Bolton"]).asks_judgement
    assert not parse_query("Why had Slough still not set up a multi-agency safeguarding hub?", ["Slough"]).asks_judgement


def test_the_glossary_is_read_once_per_process():
    # Every sentence scored and every question searched expands words with it: re-reading the TOML each
    # time made a dev-set answer five times slower.
    from rag.ofsted.glossary import _glossary
    assert _glossary() is _glossary()


def test_a_caseload_and_a_workload_are_the_same_thing_to_search():
    from rag.ofsted.glossary import expanded_words
    assert {"caseload", "caseloads"} & expanded_words("Workloads are manageable for social workers.")


def test_leaders_rated_is_the_impact_of_leaders_and_leaders_alone_is_no_area():
    from rag.search.question import parse_query
    names = ["Swindon", "Tameside"]
    assert parse_query("In the 2019 inspections, how were leaders rated in Swindon and Tameside?",
                       names).judgement_areas == ("impact_of_leaders",)
    assert parse_query("What did leaders do about caseloads in Swindon?", names).areas_named == ()


def test_the_multi_agency_safeguarding_hub_is_a_service_not_the_graded_area():
    from rag.search.question import parse_query
    names = ["Windsor and Maidenhead"]
    assert parse_query("How effective is the multi-agency safeguarding hub in Windsor and Maidenhead?",
                       names).areas_named == ()
    assert parse_query("How effective is safeguarding in Windsor and Maidenhead?",
                       names).judgement_areas == ("help_and_protection",)
