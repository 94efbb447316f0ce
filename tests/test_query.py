"""Question understanding: authorities, years, report kind, comparisons, judgements, expansions, follow-ups."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rag import query
from rag.grades import AREAS
from rag.query import (Query, canonical_authority, expand, find_authorities_in_text, find_mentions,
                       known_authorities, parse_query, standalone_question)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ("Hillingdon", "Hammersmith and Fulham", "Wandsworth", "Windsor and Maidenhead")


def parse(question: str, corpus=CORPUS) -> Query:
    return parse_query(question, corpus)


def chat(*turns: str) -> list[dict]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]


# ------------------------------------------------------------------------------------------- data

def test_authority_list_covers_english_councils_without_clashing_aliases():
    data = tomllib.loads((ROOT / "rag/data/authorities.toml").read_text(encoding="utf-8"))
    entries = data["authority"]
    assert len(entries) >= 152
    kinds = {e["name"]: e["kind"] for e in entries}
    assert set(kinds.values()) == {"london", "metropolitan", "unitary", "county"}
    assert sum(k == "london" for k in kinds.values()) == 33          # 32 boroughs + the City
    assert sum(k == "metropolitan" for k in kinds.values()) == 36
    owner: dict[tuple[str, ...], str] = {}
    for e in entries:
        for alias in [e["name"], *e.get("aliases", ()), *e.get("short", ())]:
            key = tuple(query._norm(t.group(0)) for t in query._tokens(alias))
            assert owner.setdefault(key, e["name"]) == e["name"], f"{alias!r} names two authorities"
    assert set(known_authorities()) == set(kinds)


def test_glossary_entries_are_complete():
    data = tomllib.loads((ROOT / "rag/data/glossary.toml").read_text(encoding="utf-8"))
    assert len(data["abbreviation"]) >= 55
    assert all(e["short"] and e["long"] for e in data["abbreviation"])
    assert all(len(e["terms"]) >= 2 for e in data["synonym"])


# ----------------------------------------------------------------------------------- authorities

@pytest.mark.parametrize("written, canonical", [
    ("London Borough of Hammersmith & Fulham", "Hammersmith and Fulham"),
    ("Hammersmith and Fulham Council", "Hammersmith and Fulham"),
    ("LBHF", "Hammersmith and Fulham"),
    ("H&F", "Hammersmith and Fulham"),
    ("Hammersmith", "Hammersmith and Fulham"),
    ("Royal Borough of Windsor and Maidenhead", "Windsor and Maidenhead"),
    ("Windsor & Maidenhead", "Windsor and Maidenhead"),
    ("RBWM", "Windsor and Maidenhead"),
    ("Maidenhead", "Windsor and Maidenhead"),
    ("RBKC", "Kensington and Chelsea"),
    ("Wandsworth Council", "Wandsworth"),
    ("Bristol, City of", "Bristol"),
    ("Stoke on Trent", "Stoke-on-Trent"),
    ("St. Helens", "St Helens"),
    ("Kingston upon Hull City Council", "Kingston upon Hull"),
    ("Royal Borough of Kingston upon Thames", "Kingston upon Thames"),
    ("Bournemouth, Christchurch and Poole", "Bournemouth, Christchurch and Poole"),
    ("North East Lincolnshire", "North East Lincolnshire"),
])
def test_canonical_names_from_aliases(written, canonical):
    assert canonical_authority(written) == canonical


def test_longest_name_wins_and_counts_once():
    text = "The Royal Borough of Windsor and Maidenhead works with Windsor and Maidenhead schools."
    assert find_authorities_in_text(text) == [("Windsor and Maidenhead", 2)]
    assert [m.authority for m in find_mentions("Bath and North East Somerset, North Somerset and Somerset")] \
        == ["Bath and North East Somerset", "North Somerset", "Somerset"]


def test_names_across_line_breaks_and_ampersands():
    assert find_authorities_in_text("the London Borough of Hammersmith\n& Fulham") == [("Hammersmith and Fulham", 1)]


def test_short_forms_count_in_questions_only():
    text = "Staff visited Windsor and the Chelsea area; Richmond was mentioned."
    assert find_authorities_in_text(text) == []
    assert [m.authority for m in find_mentions(text, in_question=True)] == [
        "Windsor and Maidenhead", "Kensington and Chelsea", "Richmond upon Thames"]


def test_common_words_need_a_capital_and_not_a_sentence_start():
    assert find_authorities_in_text("Reading is improving. Children in Reading and Bury do well.") == [
        ("Reading", 1), ("Bury", 1)]
    assert find_authorities_in_text("reading ages rose; they bury the lead; a ship's hull") == []


def test_acronyms_must_be_written_in_capitals():
    assert find_authorities_in_text("a bcp (business continuity plan) for rbwm") == []
    assert find_authorities_in_text("BCP and RBWM") == [("Bournemouth, Christchurch and Poole", 1),
                                                         ("Windsor and Maidenhead", 1)]


def test_phrases_that_are_not_authorities():
    text = ("The Chelsea and Westminster Hospital NHS Foundation Trust; Sutton Coldfield; "
            "Piccadilly Gate Store St Manchester M1 2WD")
    assert find_authorities_in_text(text) == []


CORPUS_FILES = {
    "000_a3b897da13a31221.txt": "Hillingdon",
    "001_610c848c595f1267.txt": "Hillingdon",
    "002_4efa5b68c20bdf93.txt": "Hammersmith and Fulham",
    "003_f87a246b47a8ad74.txt": "Wandsworth",
    "004_c00fb50408d563e2.txt": "Windsor and Maidenhead",
}


@pytest.mark.parametrize("name, authority", CORPUS_FILES.items())
def test_report_authority_is_the_most_mentioned(name, authority):
    counts = find_authorities_in_text((ROOT / "corpus" / name).read_text(encoding="utf-8"))
    assert counts[0][0] == authority
    assert counts[0][1] >= 3 * (counts[1][1] if len(counts) > 1 else 0)


def test_real_report_lines():
    lines = (ROOT / "corpus/002_4efa5b68c20bdf93.txt").read_text(encoding="utf-8").splitlines()
    hospital = next(line for line in lines if line.startswith("36. The Chelsea and Westminster Hospital"))
    assert find_authorities_in_text(hospital) == []
    pcts = next(line for line in lines if "comprising Hammersmith & Fulham" in line)
    assert dict(find_authorities_in_text(pcts)) == {
        "Hammersmith and Fulham": 1, "Kensington and Chelsea": 1, "Westminster": 1}
    head = "\n".join((ROOT / "corpus/000_a3b897da13a31221.txt").read_text(encoding="utf-8").splitlines()[:5])
    assert find_authorities_in_text(head) == [("Hillingdon", 1)]


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


# -------------------------------------------------------------------------------------- follow-ups

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
