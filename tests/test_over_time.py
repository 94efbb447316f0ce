"""Many reports per authority and questions about the whole country: which report a question means
(rag.search.reports), the judgements table (rag.ofsted.table), national questions read as table filters
(rag.search.national), and the answers built from them (rag.answer.plan), on a small synthetic corpus of
real authority names (regions and statistical neighbours are the product's own facts)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer.chain import extractive_runnable
from rag.answer.finish import check_groups, finish
from rag.answer.plan import PlanMode, plan
from rag.index.embedding import HashingEmbedder
from rag.index.reader import Index
from rag.index.writer import write_index
from rag.ofsted.table import NO_GRADE, TableFilter, grid, select
from rag.records import Hit, Judgement, Paragraph, Report
from rag.search.national import national_question
from rag.search.question import parse_query
from rag.search.reports import choose, date_cue
from rag.search.retrieval import Searcher

ILACS = ("overall_effectiveness", "impact_of_leaders", "help_and_protection", "children_in_care", "care_leavers")
LABELS = {"overall_effectiveness": "Overall effectiveness",
          "impact_of_leaders": "The impact of leaders on social work practice with children and families",
          "help_and_protection": "The experiences and progress of children who need help and protection",
          "children_in_care": "The experiences and progress of children in care",
          "care_leavers": "The experiences and progress of care leavers"}


def inspection(authority: str, published: str, grades: dict[str, str], *, start: str | None = None,
               report_type: str = "ofsted_ilacs", variant: str = "standard") -> Report:
    """A report whose first paragraphs state its grades, one per area, as a grade table's rows read."""
    rid = f"{authority.lower().replace(' ', '-')}-{published[:4]}"
    start = start or f"{int(published[:4]) - (1 if published[5:7] < '03' else 0)}-{'01' if published[5:7] >= '03' else '11'}-10"
    paragraphs, judgements = [], []
    for i, (area, grade) in enumerate(grades.items()):
        pid = f"{rid}:{i:04d}"
        text = f"{LABELS[area]}: {grade}." if area != "overall_effectiveness" else \
            f"Children's services in {authority} are {grade}. Overall effectiveness: {grade}."
        paragraphs.append(Paragraph(pid, rid, i, text, text, ("Judgement",), str(i + 1), 1))
        judgements.append(Judgement(rid, authority, published, area, LABELS[area], grade, pid, "ilacs"))
    n = len(paragraphs)
    filler = f"Social workers in {authority} visit children regularly and know them well; caseloads are manageable."
    paragraphs.append(Paragraph(f"{rid}:{n:04d}", rid, n, filler, filler, ("Findings",), str(n + 1), 2))
    return Report(id=rid, file=f"{rid}.pdf", sha256=rid, title=f"Inspection of {authority}", authority=authority,
                  report_type=report_type, date=published, year=int(published[:4]), inspection_start=start,
                  inspection_end=start[:8] + "21", published=published, variant=variant,
                  paragraphs=tuple(paragraphs), judgements=tuple(judgements))


def all_areas(grade: str, **others: str) -> dict[str, str]:
    return {area: others.get(area, grade) for area in ILACS}


CORPUS = [
    inspection("Sunderland", "2015-07-20", {"overall_effectiveness": "inadequate"}, report_type="ofsted_sif", variant=""),
    inspection("Sunderland", "2018-07-25", {"overall_effectiveness": "inadequate"}, report_type="ofsted_sif",
               variant="re-inspection"),
    inspection("Sunderland", "2021-08-20", all_areas("outstanding")),
    inspection("Sunderland", "2025-03-11", all_areas("outstanding", care_leavers="good")),
    inspection("Hackney", "2019-12-10", all_areas("requires improvement")),
    inspection("Hackney", "2024-05-02", all_areas("good")),
    inspection("Camden", "2025-02-20", all_areas("outstanding")),
    inspection("Havering", "2022-03-01", all_areas("good")),
    inspection("Havering", "2024-10-01", all_areas("inadequate")),
    inspection("Liverpool", "2023-03-01", all_areas("inadequate")),
    inspection("Liverpool", "2026-07-07", {a: g for a, g in all_areas("good", care_leavers="requires improvement").items()
                                           if a != "overall_effectiveness"},
               start="2026-05-11", variant="standard, from April 2026: no overall effectiveness grade"),
]
BY_ID = {r.id: r for r in CORPUS}


# ---- which report ---------------------------------------------------------------------------------------

def chosen(question: str, authority: str = "Sunderland", graded: bool = True) -> list[str]:
    return [r.id for r in choose(authority, [r for r in CORPUS if r.authority == authority], date_cue(question),
                                 graded=graded).reports]


def test_no_date_named_means_the_latest_report_and_the_answer_says_older_ones_exist():
    choice = choose("Sunderland", CORPUS[:4], date_cue("How good are Sunderland's services for care leavers?"))
    assert [r.id for r in choice.reports] == ["sunderland-2025"]
    assert "latest report on Sunderland" in choice.note and "3 earlier reports (2015, 2018, 2021)" in choice.note


@pytest.mark.parametrize("question, expected", [
    ("What did the 2021 inspection of Sunderland find?", ["sunderland-2021"]),
    ("What did the report Ofsted published in March 2025 say about Sunderland?", ["sunderland-2025"]),
    ("Sunderland's 2024 inspection (published 2025): how were care leavers graded?", ["sunderland-2025"]),
    ("What grade did Sunderland get at the inspection before its most recent one?", ["sunderland-2021"]),
    ("What did the earliest Sunderland report conclude?", ["sunderland-2015"]),
    ("Before Sunderland's 2018 re-inspection, how had Ofsted graded its services?", ["sunderland-2015"]),
    ("How has Sunderland's overall judgement moved from 2015 to 2021?",
     ["sunderland-2015", "sunderland-2018", "sunderland-2021"]),
    ("How has Sunderland's help and protection judgement changed from its 2015 inspection through to its 2021 "
     "inspection?", ["sunderland-2015", "sunderland-2018", "sunderland-2021"]),
    ("Trace Sunderland's overall grade through its 2015, 2018 and most recent inspections.",
     ["sunderland-2015", "sunderland-2018", "sunderland-2025"]),
    # A framework named: 'first', 'latest' and 'each' count among its reports only.
    ("At Sunderland's first ILACS inspection, how were care leavers judged?", ["sunderland-2021"]),
    ("What did Sunderland's latest SIF inspection find?", ["sunderland-2018"]),
    ("When Sunderland had its first inspection under the ILACS framework, had services improved since the "
     "previous inspection?", ["sunderland-2021"]),
    # 'the previous 18 months' is a time, and a report year named beats 'previous'.
    ("How many families had Sunderland's team helped in the previous 18 months, according to the 2018 "
     "inspection?", ["sunderland-2018"]),
    ("What did Sunderland's 2015 report say about the previous inspection's findings?", ["sunderland-2015"]),
    # 'since the previous inspection' is what changed, not which report.
    ("Have Sunderland's services improved since the previous inspection?", ["sunderland-2025"]),
    # A follow-up's 'previous inspection', anchored to the report the conversation was about: compared, both.
    ("In Sunderland, what about the previous inspection (the inspection before 2025)?", ["sunderland-2021"]),
    ("In Sunderland, how did that compare with the previous inspection (the inspection before 2025)?",
     ["sunderland-2021", "sunderland-2025"]),
    ("In Sunderland, was that better or worse than at the inspection before (the inspection before 2025)?",
     ["sunderland-2021", "sunderland-2025"]),
    ("In Sunderland, has that improved since 2018?", ["sunderland-2018", "sunderland-2021", "sunderland-2025"]),
    ("Has Sunderland improved since its 2018 inspection?", ["sunderland-2018", "sunderland-2021", "sunderland-2025"]),
    # 'the year before its 2018 inspection' dates data: that report, not the ones before it.
    ("How many families did Sunderland help in the year before its 2018 inspection?", ["sunderland-2018"]),
    ("Sunderland's Ofsted ratings over the years?",
     ["sunderland-2015", "sunderland-2018", "sunderland-2021", "sunderland-2025"]),
    ("How have Sunderland's services for care leavers been judged over its inspections?",
     ["sunderland-2015", "sunderland-2018", "sunderland-2021", "sunderland-2025"]),
    ("What trajectory have Sunderland's children's services followed across its four Ofsted inspections?",
     ["sunderland-2015", "sunderland-2018", "sunderland-2021", "sunderland-2025"]),
    ("What was Sunderland's overall effectiveness grade at each Ofsted inspection?",
     ["sunderland-2015", "sunderland-2018", "sunderland-2021", "sunderland-2025"]),
])
def test_the_dates_a_question_names_pick_the_report(question, expected):
    assert chosen(question) == expected


def test_a_date_with_no_report_is_said_and_the_nearest_report_is_offered_labelled():
    choice = choose("Sunderland", CORPUS[:4], date_cue("What overall grade did Sunderland get in its 2026 inspection?"))
    assert [r.id for r in choice.reports] == ["sunderland-2025"]
    assert choice.missing == "2026"
    assert choice.note.startswith("The corpus has no 2026 report on Sunderland. The nearest is its")


def test_a_year_between_two_inspections_is_answered_from_both_labelled():
    choice = choose("Sunderland", CORPUS[:4], date_cue("What overall grade did Sunderland get in its 2022 inspection?"))
    assert [r.id for r in choice.reports] == ["sunderland-2021", "sunderland-2025"]
    assert choice.missing == "2022"
    assert choice.note.startswith("The corpus has no 2022 report on Sunderland. The nearest are its")


def test_a_year_that_dates_data_is_no_reports_year_when_the_question_names_the_reports():
    question = ("How many children in Sunderland were without a social worker in December 2017, and how far had that "
                "fallen by the time of the 2018 inspection?")
    choice = choose("Sunderland", CORPUS[:4], date_cue(question))
    assert [r.id for r in choice.reports] == ["sunderland-2018"] and not choice.missing


def test_a_month_and_year_in_brackets_after_an_authority_date_its_report():
    query = parse_query("Sunderland (July 2018) and Havering (March 2022) were both inspected: how did they "
                        "compare?", ["Sunderland", "Havering"])
    assert query.authority_years == (("Sunderland", 2018), ("Havering", 2022))


# ---- the judgements table -------------------------------------------------------------------------------

def authorities(result) -> set[str]:
    return {row.authority for row in result.rows}


def test_latest_inspection_of_each_authority_in_a_region():
    found = select(CORPUS, TableFilter(grades=frozenset({"good"}), region="London"))
    assert authorities(found) == {"Hackney"}            # Havering's latest is inadequate; Sunderland not London
    assert found.considered == 3


def test_every_inspection_in_a_window_and_changes_between_consecutive_inspections():
    window = TableFilter(area="care_leavers", grades=frozenset({"inadequate"}), since="2023-01-01", scope="all")
    assert authorities(select(CORPUS, window)) == {"Havering", "Liverpool"}
    fell = TableFilter(change=(frozenset({"good", "outstanding"}), frozenset({"inadequate"})), scope="all")
    assert authorities(select(CORPUS, fell)) == {"Havering"}
    rose = TableFilter(change=(frozenset({"inadequate"}), frozenset({"outstanding"})), scope="all")
    (row,) = select(CORPUS, rose).rows
    assert [r.id for r in row.reports] == ["sunderland-2018", "sunderland-2021"]


def test_reports_without_an_overall_grade_and_every_inspection_rules():
    assert authorities(select(CORPUS, TableFilter(grades=frozenset({NO_GRADE})))) == {"Liverpool"}
    always = TableFilter(grades=frozenset({"outstanding"}), every=True)
    assert authorities(select(CORPUS, always)) == {"Camden"}
    assert authorities(select(CORPUS, replace(always, min_reports=2))) == set()


def test_the_grid_has_a_row_per_report_and_a_cell_per_main_area():
    rows = grid(CORPUS, TableFilter(scope="all", region="London"))
    assert [r.report.id for r in rows] == ["camden-2025", "hackney-2019", "hackney-2024", "havering-2022",
                                           "havering-2024"]
    assert [c.grade if c else None for c in rows[0].cells] == ["outstanding"] * 5


# ---- national questions ---------------------------------------------------------------------------------

def read(question: str) -> TableFilter:
    query = parse_query(question, sorted({r.authority for r in CORPUS}))
    national = national_question(question, query)
    assert national is not None, question
    return national.filter


def test_a_national_question_is_read_as_a_table_filter():
    f = read("Which London boroughs moved from requires improvement to good overall between their last two inspections?")
    assert (f.region, f.change, f.scope) == ("London", (frozenset({"requires improvement"}), frozenset({"good"})),
                                             "latest")
    f = read("Which councils were judged inadequate for care leavers since 2023?")
    assert (f.area, f.grades, f.since, f.scope) == ("care_leavers", frozenset({"inadequate"}), "2023-01-01", "all")
    f = read("How many authorities are outstanding overall in their latest inspection?")
    assert (f.area, f.grades, f.scope) == ("overall_effectiveness", frozenset({"outstanding"}), "latest")
    f = read("Which of Hackney's statistical neighbours were judged good for help and protection?")
    assert f.area == "help_and_protection" and "Hackney" not in f.authorities and len(f.authorities) == 10
    f = read("Which authorities have been judged requires improvement overall at every inspection, with at least "
             "three inspections?")
    assert (f.every, f.min_reports, f.grades) == (True, 3, frozenset({"requires improvement"}))


def test_a_grade_question_naming_no_authority_of_a_large_corpus_reads_the_table_with_its_month():
    question = "What grade did help and protection receive in the reports published in May 2016?"
    query = parse_query(question, sorted({r.authority for r in CORPUS}))
    assert national_question(question, query) is None
    f = national_question(question, query, unnamed_many=True).filter
    assert (f.area, f.since, f.until, f.scope) == ("help_and_protection", "2016-05-01", "2016-05-31", "all")
    # Not a grade question: search answers it, however many authorities there are.
    query = parse_query("What did inspectors say about caseloads?", [])
    assert national_question(query.text, query, unnamed_many=True) is None


def test_a_question_about_one_authority_is_not_national():
    query = parse_query("What did inspectors say about caseloads in Hackney?", ["Hackney"])
    assert national_question(query.text, query) is None
    # 'How many children ... were' counts children of the one authority named, not authorities.
    query = parse_query("What did Ofsted conclude about Hackney's LSCB, and how many children were on child "
                        "protection plans?", ["Hackney"])
    assert national_question(query.text, query) is None
    query = parse_query("How many councils were judged inadequate, like Hackney?", ["Hackney"])
    assert national_question(query.text, query) is not None


# ---- answers --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def searcher(tmp_path_factory) -> Searcher:
    folder = tmp_path_factory.mktemp("over-time-index")
    embedder = HashingEmbedder(64)
    write_index(folder, CORPUS, embedder, pipeline_version="test")
    return Searcher(Index.load(folder, embedder_name=embedder.name, pipeline_version="test"), embedder)


def answer(searcher: Searcher, question: str):
    the_plan = plan(searcher, question)
    return the_plan, finish(the_plan, [], engine="extractive")


def test_a_national_question_is_answered_from_the_table_with_the_filter_said_and_each_row_cited(searcher):
    the_plan, result = answer(searcher, "Which councils have been judged inadequate for care leavers since 2023?")
    assert the_plan.mode == PlanMode.TABLE
    assert result.text.startswith("I read this as: every inspection, experiences and progress of care leavers, "
                                  "inadequate; reports dated 2023-01-01 or later. 2 authorities match: Havering "
                                  "and Liverpool.")
    # One grade line per row, each with the report's headline summary: every line cited and verified.
    assert result.verified_claims == len(result.claims) == 4 and len(result.citations) == 4
    assert "Children's services in Havering are inadequate [2]." in result.text
    assert [row[0] for row in result.table[1:]] == ["Havering", "Liverpool"]


def test_a_grade_question_naming_no_authority_compares_a_few_and_tables_many(searcher, monkeypatch):
    question = "How was help and protection judged?"
    assert plan(searcher, question).mode != PlanMode.TABLE          # the few authorities, report by report
    monkeypatch.setattr("rag.answer.plan.MANY_AUTHORITIES", 1)
    assert plan(searcher, question).mode == PlanMode.TABLE          # many: the judgements table
    assert plan(searcher, "How was help and protection judged in Havering?").mode != PlanMode.TABLE


def test_a_timeline_lists_each_report_in_date_order_with_its_cited_grade(searcher):
    the_plan, result = answer(searcher, "How has Sunderland's overall effectiveness changed from 2015 to 2025?")
    assert the_plan.mode == PlanMode.JUDGEMENT
    lines = [line for line in result.text.splitlines() if line.startswith("Sunderland (")]
    assert [line[:17] for line in lines] == ["Sunderland (2015)", "Sunderland (2018)", "Sunderland (2021)",
                                             "Sunderland (2025)"]
    assert "inadequate" in lines[0] and "outstanding" in lines[3]
    assert result.verified_claims == 4 and len(result.table) == 5


def test_a_missing_report_is_said_first_and_an_inspection_after_april_2026_has_no_overall_grade(searcher):
    _, result = answer(searcher, "What overall grade did Havering get in its 2023 inspection?")
    assert result.text.startswith("The corpus has no 2023 report on Havering. The nearest are its")
    # Both neighbours, each grade on its own cited line.
    assert "Havering (2022): Overall effectiveness — good [1]." in result.text
    assert "Havering (2024): Overall effectiveness — inadequate [2]." in result.text
    _, result = answer(searcher, "What is Liverpool's overall effectiveness grade?")
    assert "gives no overall effectiveness grade: Ofsted stopped grading overall effectiveness" in result.text
    assert "inadequate" not in result.text.split("From the latest report")[0]     # 2023's grade is not passed off
    assert "requires improvement" in result.text and result.verified_claims >= 4


def test_a_report_without_the_grade_asked_for_cites_the_grades_it_does_give(searcher):
    the_plan, result = answer(searcher, "Which councils' latest reports carry no overall effectiveness grade?")
    assert the_plan.mode == PlanMode.TABLE
    assert "Liverpool (2026): the report gives no overall effectiveness grade." in result.text
    line = next(x for x in result.text.split("\n") if x.startswith("Liverpool (2026): The impact of leaders"))
    assert line.endswith("— good [1].") and result.citations[0].paragraph.report == "liverpool-2026"
    assert all(c.verified for c in result.claims)


def test_a_report_without_the_grade_asked_still_shows_the_grade_asked_in_its_other_areas(searcher):
    # Liverpool 2026 has no overall effectiveness grade (inspected after April 2026) but requires improvement
    # for care leavers: 'no one requires improvement overall in 2026' must not hide it.
    the_plan, result = answer(searcher, "Which councils were judged requires improvement overall in reports "
                                        "published in 2026?")
    assert the_plan.mode == PlanMode.TABLE
    line = next(x for x in result.text.split("\n") if x.startswith("Liverpool (2026): no overall effectiveness"))
    assert "The experiences and progress of care leavers — requires improvement [" in line
    assert "reports in scope give no such grade and are not counted: Liverpool" in result.text


def test_which_area_got_a_grade_is_answered_from_every_grade_of_the_report(searcher):
    the_plan, result = answer(searcher, "Sunderland was inspected in 2025. Which judgement was not outstanding?")
    assert the_plan.mode == PlanMode.JUDGEMENT
    lines = [line for line in result.text.splitlines() if line.startswith("Sunderland (2025): ")]
    assert len([line for line in lines if " — " in line]) == 5
    assert "Sunderland (2025): The experiences and progress of care leavers — good [5]." in lines
    assert all(c.verified for c in result.claims)


def test_the_course_of_an_authority_over_time_is_each_report_overall_grade(searcher):
    the_plan, result = answer(searcher, "What trajectory have Sunderland's children's services followed across "
                                        "its inspections?")
    assert the_plan.mode == PlanMode.JUDGEMENT
    grades = [line for line in result.text.splitlines() if " — " in line]
    assert [line[:17] for line in grades] == ["Sunderland (2015)", "Sunderland (2018)", "Sunderland (2021)",
                                              "Sunderland (2025)"]
    assert all("Overall effectiveness" in line for line in grades)


def test_a_question_judging_something_ungraded_does_not_pull_up_every_grade(searcher):
    # 'How were the arrangements judged?' names no area Ofsted grades: the grade paragraphs are not lifted
    # above the prose that answers it.
    query = parse_query("How were Hackney's arrangements for visiting children judged?", searcher.authorities)
    assert query.asks_judgement and not query.judgement_areas
    assert searcher._judgement_rows(query, ["hackney-2024"]) == []
    graded = parse_query("How was Hackney's help and protection judged?", searcher.authorities)
    assert len(searcher._judgement_rows(graded, ["hackney-2024"])) >= 1
    hits = searcher.search("How were Hackney's arrangements for visiting children judged?", 3).hits
    assert "visit children regularly" in hits[0].paragraph.text


def test_the_inspection_after_or_before_a_year_is_the_one_report_next_to_it():
    assert chosen("What did Sunderland's inspection find (the inspection after 2018)?") == ["sunderland-2021"]
    assert chosen("What did Sunderland's inspection find (the inspection before 2021)?") == ["sunderland-2018"]
    assert date_cue("(the inspection after 2018)").years == ()


def test_a_comparison_searched_in_given_reports_gives_each_authority_its_own(searcher):
    result = searcher.search("Compare caseloads in Hackney and Camden.", 6,
                             report_ids=["hackney-2024", "camden-2025"])
    ids = [h.paragraph.id for h in result.hits]
    assert len(ids) == len(set(ids))
    assert {a: {h.report.id for h in hits} for a, hits in result.by_authority.items()} == \
        {"Hackney": {"hackney-2024"}, "Camden": {"camden-2025"}}


def test_a_comparison_lifts_the_paragraph_whose_one_sentence_answers(searcher):
    # Among an authority's candidates, the long paragraph holding the sentence that answers ('... caseloads
    # ... an average of 25 cases') rises above vaguer ones the whole-paragraph rankings put first.
    report = BY_ID["hackney-2024"]

    def hit(i: int, text: str) -> Hit:
        return Hit(Paragraph(f"hackney-2024:x{i}", report.id, 90 + i, text, text, ("Findings",)), report, 1.0)

    vague = [hit(i, f"Social workers in Hackney know children well and visit them often {i}. Managers are "
                    f"visible.") for i in range(4)]
    answering = hit(9, "Leaders have invested in the service. Training is valued by staff. Social worker "
                       "caseloads are manageable, with an average of 25 cases. Supervision is regular.")
    query = parse_query("Compare social worker caseloads in Hackney and Camden.", searcher.authorities)
    reordered = searcher._by_best_sentence(query, [*vague, answering])
    # Fused rank and best sentence count alike: from last of five to second, behind the first only.
    assert [h.paragraph.id for h in reordered] == [h.paragraph.id for h in (vague[0], answering, *vague[1:])]


def test_years_paired_with_other_authorities_do_not_pick_this_ones_report(searcher):
    result = searcher.search("Were caseloads a problem in Havering (2022) and Hackney's latest inspection?", 6)
    assert {c.authority: [r.id for r in c.reports] for c in result.choices} == \
        {"Havering": ["havering-2022"], "Hackney": ["hackney-2024"]}
    assert not any(c.missing for c in result.choices)


def test_how_did_the_next_inspection_compare_asks_for_that_reports_grades():
    from rag.answer.plan import _asks_overview
    assert _asks_overview(parse_query("In Havering, how did the next inspection compare (the inspection after "
                                      "2018)?", ["Havering"]))
    assert not _asks_overview(parse_query("In Havering, how did caseloads compare at the next inspection?",
                                          ["Havering"]))
    # Who did better, and a date that only says which reports: still their grades.
    assert _asks_overview(parse_query("Which did better at their 2022 ILACS inspections, Hackney or Havering?",
                                      ["Hackney", "Havering"]))
    assert _asks_overview(parse_query("Hackney and Camden both had reports out on 2 May 2024 - how did they "
                                      "compare?", ["Hackney", "Camden"]))
    assert _asks_overview(parse_query("Hackney and Camden were both inspected in spring 2024 - which did better?",
                                      ["Hackney", "Camden"]))


def test_what_ofsted_said_about_an_authoritys_childrens_services_is_the_whole_report(searcher):
    from rag.answer.plan import _asks_summary
    assert _asks_summary("What did Ofsted say about Nottingham's children's services in 2016?")
    assert not _asks_summary("What did Ofsted say about care leavers in Nottingham in 2016?")
    the_plan = plan(searcher, "What did Ofsted say about Hackney children's services in 2022?")
    assert the_plan.mode == PlanMode.JUDGEMENT and {j.report for j in the_plan.judgements} == {"hackney-2019",
                                                                                            "hackney-2024"}


@pytest.mark.parametrize("question, reasons", [
    ("Why were Sunderland's care leavers judged good in 2025?", "strengths"),
    # Why the grade was not higher: what fell short, though the grade is good.
    ("Why were Sunderland's care leavers only judged good in 2025?", "weaknesses"),
    ("In Sunderland (2025), what held care leavers back?", "weaknesses"),
    ("Why wasn't Sunderland's care leavers service outstanding in 2025?", "weaknesses"),
])
def test_why_a_grade_was_not_higher_asks_what_fell_short(searcher, question, reasons):
    assert plan(searcher, question).groups[0].reasons == reasons


def test_a_why_question_about_a_fact_not_a_grade_is_not_answered_with_the_grades_reasons(searcher):
    assert plan(searcher, "Why was help and protection in Havering judged inadequate in 2024?").groups[0].reasons
    fact = plan(searcher, "Why had Havering not set up a multi-agency safeguarding hub in 2024?")
    assert all(not g.reasons for g in fact.groups)


def test_a_question_about_care_leavers_gets_the_combined_grade_of_a_2018_to_2023_report(tmp_path):
    # ILACS graded 'children in care and care leavers' together until 2023: that grade is care leavers'.
    report = inspection("Hackney", "2019-12-10", all_areas("requires improvement"))
    combined = "The experiences and progress of children in care and care leavers"
    judgements = tuple(replace(j, label=combined) for j in report.judgements if j.area == "children_in_care")
    paragraphs = tuple(replace(p, text=p.text.replace(LABELS["children_in_care"], combined),
                               original=p.original.replace(LABELS["children_in_care"], combined))
                       for p in report.paragraphs if "care leavers" not in p.text)
    report = replace(report, judgements=(*(j for j in report.judgements if j.area not in
                                          ("children_in_care", "care_leavers")), *judgements), paragraphs=paragraphs)
    embedder = HashingEmbedder(64)
    write_index(tmp_path, [report], embedder, pipeline_version="test")
    combined_searcher = Searcher(Index.load(tmp_path, embedder_name=embedder.name, pipeline_version="test"), embedder)
    the_plan, _ = answer(combined_searcher, "What did inspectors find about care leavers in Hackney?")
    assert the_plan.grades.startswith(f"Hackney (2019): {combined} — requires improvement")


@pytest.mark.parametrize("question, reports", [
    ("What was the outcome of Havering's children's services inspection published in October 2024?",
     ["havering-2024"]),
    ("How did Havering's 2024 inspection result compare with its 2022 one?", ["havering-2022", "havering-2024"]),
    ("Hackney and Havering were both inspected in 2024. How do their results compare?",
     ["hackney-2024", "havering-2024"]),
    ("What did the 2024 Ofsted inspection of Havering's children's services find?", ["havering-2024"]),
    ("What did Ofsted find when it inspected Havering in 2022?", ["havering-2022"]),
    ("In Havering, what did the following inspection find (the inspection after 2022)?", ["havering-2024"]),
])
def test_an_inspections_outcome_or_results_are_its_grades(searcher, question, reports):
    the_plan, result = answer(searcher, question)
    assert the_plan.mode == PlanMode.JUDGEMENT
    graded = [line for line in result.text.splitlines() if "Overall effectiveness — " in line]
    assert len(graded) == len(reports) and all(c.verified for c in result.claims)
    assert [f"{line.split(' (')[0].lower()}-{line.split('(')[1][:4]}" for line in graded] == reports


def test_what_an_inspection_found_about_a_topic_is_not_its_summary(searcher):
    the_plan, _ = answer(searcher, "What did Ofsted find about caseloads when it inspected Havering in 2022?")
    assert the_plan.mode == PlanMode.SINGLE


def test_the_reasons_for_a_grade_are_not_the_reports_facts_about_the_area(tmp_path):
    # 'No serious case reviews ... remains low' reads like a weakness; it is a fact about the area.
    report = inspection("Hackney", "2019-12-10", all_areas("inadequate"))
    fact = Paragraph("hackney-2019:fact", report.id, 90, "No serious case reviews are under way and the number of "
                     "children judged inadequate on plans remains low at 40.", "", ("The local authority",
                                                                                   "Child protection in this area"),
                     "", 2)
    report = replace(report, paragraphs=(*report.paragraphs, replace(fact, original=fact.text)))
    embedder = HashingEmbedder(64)
    write_index(tmp_path, [report], embedder, pipeline_version="test")
    one = Searcher(Index.load(tmp_path, embedder_name=embedder.name, pipeline_version="test"), embedder)
    the_plan, _ = answer(one, "Why was Hackney judged inadequate?")
    assert the_plan.groups[0].reasons == "weaknesses"
    assert "hackney-2019:fact" in [h.paragraph.id for h in one.search("Why was Hackney judged inadequate?", 10).hits]
    assert "hackney-2019:fact" not in [p.hit.paragraph.id for p in the_plan.groups[0].passages]


def test_a_topic_over_several_reports_is_answered_report_by_report(searcher):
    # Searched together, the report that matches best would crowd out the others.
    the_plan = plan(searcher, "Has Ofsted repeatedly commented on caseloads in Hackney?")
    assert the_plan.mode == PlanMode.COMPARE
    assert [g.authority for g in the_plan.groups] == ["Hackney (2019)", "Hackney (2024)"]
    assert [{p.hit.report.id for p in g.passages} for g in the_plan.groups] == [{"hackney-2019"}, {"hackney-2024"}]
    texts = [extractive_runnable().invoke(group) for group in the_plan.groups]
    lines = finish(the_plan, check_groups(the_plan, texts), engine="extractive").text.splitlines()
    assert lines[0].startswith("Hackney (2019): ") and lines[1].startswith("Hackney (2024): ")
    assert all("caseloads are manageable" in line for line in lines[:2])
    # One report asked about: one group, as before.
    assert answer(searcher, "What did Ofsted say about caseloads in Hackney in 2019?")[0].mode == PlanMode.SINGLE


def test_whether_any_part_was_rated_worse_is_answered_from_every_grade(searcher):
    the_plan, result = answer(searcher, "In Sunderland (2025), was any part of the service rated worse than that?")
    assert the_plan.mode == PlanMode.JUDGEMENT
    assert len([line for line in result.text.splitlines() if " — " in line]) == 5


def test_areas_beside_one_named_authority_are_its_judgement_areas_not_places(searcher):
    question = "Even though Havering was rated inadequate in 2024, what areas did Ofsted still want it to improve?"
    assert national_question(question, parse_query(question, searcher.authorities)) is None
    assert national_question("Which areas were rated inadequate in 2024?",
                             parse_query("Which areas were rated inadequate in 2024?", searcher.authorities))


def test_judgements_compared_especially_for_an_area_give_that_area_and_the_overall_grade(searcher):
    the_plan, result = answer(searcher, "Hackney and Havering were both inspected in 2024. How did their judgements "
                                        "compare, especially for care leavers?")
    lines = [line for line in result.text.splitlines() if " — " in line]
    assert sum("Overall effectiveness" in line for line in lines) == 2
    assert sum("care leavers" in line for line in lines) == 2 and len(lines) == 4
