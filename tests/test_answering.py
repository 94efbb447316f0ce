"""Answers from the default corpus with the extractive engine: judgements, comparisons, follow-ups,
abstention, and the citation guarantees over the whole dev set."""
import json

import pytest

from rag.records import NOT_IN_REPORTS, REPORT_SILENT
from tests.conftest import GOLD, require


def test_a_judgement_question_is_answered_from_the_judgements_table(assistant):
    answer = assistant.ask("What grade did Wandsworth receive for adoption performance?")
    assert "requires improvement" in answer.text and not answer.abstained
    [citation] = answer.citations
    stated = [j for j in assistant.judgements("Wandsworth") if j.area == "adoption_performance"][0]
    assert citation.paragraph.id == stated.paragraph_id
    assert "adoption performance is that it requires" in citation.quote


def test_a_2011_grade_keeps_its_number_and_service(assistant):
    answer = assistant.ask("How was the leadership and management of Hammersmith and Fulham's looked after "
                           "children's service graded in 2011?")
    assert "outstanding (Grade 1)" in answer.text
    assert "looked after children's service are outstanding" in answer.citations[0].quote


def test_a_grade_a_report_never_states_is_not_invented(assistant):
    answer = assistant.ask("What overall judgement did Wandsworth get?")
    assert "does not state a grade" in answer.text
    assert not any("overall" in c.quote.lower() and "judgement" in c.quote.lower() for c in answer.citations)


def test_a_judgement_comparison_gives_a_grid_with_a_cell_per_authority(assistant):
    answer = assistant.ask("How were services for care leavers judged in Hillingdon, Wandsworth and "
                           "Windsor and Maidenhead?")
    header, row = answer.table
    assert header == ("Judgement", "Hillingdon", "Wandsworth", "Windsor and Maidenhead")
    assert row[1:] == ("requires improvement", "inadequate", "requires improvement")
    # Each grade cites the paragraph stating it; beside it, the first words of the report's section on care
    # leavers, where the report has one (Hillingdon's 2013 report states the grade and no more).
    stated = {j.paragraph_id for a in ("Hillingdon", "Wandsworth", "Windsor and Maidenhead")
              for j in assistant.judgements(a) if j.area == "care_leavers"}
    assert {c.paragraph.id for c in answer.citations} > stated and len(answer.citations) == 5
    assert "Wandsworth (2015): The local authority has failed to ensure that there is sufficient suitable" in answer.text
    assert all(c.verified for c in answer.claims)


def test_a_comparison_answers_each_authority_from_its_own_evidence(assistant):
    answer = assistant.ask("Compare persistent absence from school among looked after children in Wandsworth "
                           "and Windsor and Maidenhead.")
    assert answer.table[0] == ("Aspect", "Wandsworth", "Windsor and Maidenhead")
    lines = answer.text.split("\n")
    assert lines[0].startswith("Wandsworth:") and lines[1].startswith("Windsor and Maidenhead:")
    cited = {c.n: c.report.authority for c in answer.citations}
    for line, authority in zip(lines, ("Wandsworth", "Windsor and Maidenhead")):
        keys = [int(k) for k in __import__("re").findall(r"\[(\d+)\]", line)]
        assert keys and all(cited[k] == authority for k in keys)


def test_an_authority_without_evidence_gets_its_own_cell_saying_so(assistant):
    answer = assistant.ask("Compare the Axis Project in Hillingdon and Windsor and Maidenhead.")
    cells = dict(zip(answer.table[0][1:], answer.table[1][1:]))
    assert "axis" in cells["Hillingdon"].lower()
    assert cells["Windsor and Maidenhead"] == REPORT_SILENT
    assert not answer.abstained            # abstention is per authority, not for the whole answer


def test_an_authority_outside_the_corpus_is_declined_plainly(assistant):
    answer = assistant.ask("What judgement did Ofsted give Kensington and Chelsea for care leavers?")
    assert answer.abstained and answer.text.startswith(NOT_IN_REPORTS)
    assert "Kensington and Chelsea" in answer.text and not answer.citations


def test_a_fact_no_report_states_is_declined(assistant):
    answer = assistant.ask("What is the name of Wandsworth's Director of Children's Services?")
    assert answer.abstained and answer.text == NOT_IN_REPORTS


def test_a_follow_up_carries_the_topic_to_the_new_authority(assistant):
    history = [{"role": "user", "content": "How many children were the subject of a child protection plan in "
                                           "Windsor and Maidenhead?"},
               {"role": "assistant", "content": "At 3 March 2015, 75 children were the subject of a child "
                                                "protection plan [1]."}]
    answer = assistant.ask("And what about Wandsworth?", history)
    assert "Wandsworth" in answer.standalone_question and "child protection plan" in answer.standalone_question
    assert answer.citations and {c.report.authority for c in answer.citations} == {"Wandsworth"}
    assert "201" in answer.text


def test_a_follow_up_on_a_comparison_compares_the_same_authorities(assistant):
    history = [{"role": "user", "content": "Compare care leavers in Hillingdon and Wandsworth."},
               {"role": "assistant", "content": "Hillingdon: ... Wandsworth: ..."}]
    answer = assistant.ask("And on adoption?", history)
    assert answer.table and answer.table[0][1:] == ("Hillingdon", "Wandsworth")


@pytest.fixture(scope="module")
def dev_run(minilm_assistant):
    require(GOLD.exists(), f"the dev gold questions at {GOLD} (../shared/eval beside the project)")
    gold = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    return gold, {g["id"]: minilm_assistant.ask(g["question"], g.get("history") or ()) for g in gold}


def test_every_citation_of_the_dev_run_quotes_its_paragraph_verbatim(dev_run):
    _, answers = dev_run
    citations = [c for a in answers.values() for c in a.citations]
    assert len(citations) > 40
    assert all(c.quote and c.quote in c.paragraph.text for c in citations)


def test_the_dev_run_meets_the_extractive_targets(dev_run, score_py):
    """score.py's own metrics over the run: citation recall >= 0.80, keywords >= 0.75, abstention 1.0,
    answered >= 0.95, median answer length <= 120 words."""
    score = score_py
    gold, answers = dev_run
    result = score.score(gold, [{"id": i, **a.to_json()} for i, a in answers.items()])
    overall = result["overall"]
    assert overall["citation_recall"] >= 0.80 and overall["keywords"] >= 0.75
    assert overall["abstain_ok"] == 1.0 and overall["answered"] >= 0.95
    assert result["median_answer_words"] <= 120


def test_rag_eval_agrees_with_score_py_on_the_dev_run(dev_run, score_py):
    from rag.cli.evaluate import load_gold, score_answers
    score = score_py
    gold, answers = dev_run
    rows = {i: a.to_json() for i, a in answers.items()}
    ours = score_answers(load_gold(GOLD), rows).to_json()
    theirs = score.score(gold, [{"id": i, **r} for i, r in rows.items()])
    assert ours["overall"] == theirs["overall"] and ours["by_type"] == theirs["by_type"]


def test_a_grade_and_a_figure_asked_together_get_the_grade_asked_and_not_a_neighbours(assistant):
    answer = assistant.ask("What did Ofsted conclude about Hillingdon's LSCB, and how many children were the "
                           "subject of a child protection plan?")
    assert "Hillingdon (2013): Local Safeguarding Children Board — requires improvement" in answer.text
    # 'child protection plan' names a figure asked for, not the help and protection grade.
    assert "help and protection —" not in answer.text and not answer.abstained
    assert "I read this as" not in answer.text           # one authority named: not a question about the country
    assert "218 children and young people were the subject of a child protection plan" in answer.text


def test_each_part_of_a_two_part_question_is_searched_in_the_same_reports_and_interleaved():
    from dataclasses import replace

    from rag.answer.parts import searched_by_part
    from rag.records import Hit, Paragraph, Report
    from rag.search.question import parse_query
    from rag.search.retrieval import SearchResult
    report = Report(id="r", file="r.md", sha256="r", title="Inspection of Eastshire", authority="Eastshire",
                    report_type="ofsted_sif", date="2015-07-20", year=2015)

    def hit(text: str) -> Hit:
        return Hit(Paragraph(f"r:{text}", "r", 0, text, text, ("Section",), None, 1), report, 1.0)

    class Parts:                        # each part's own ranking, as the searcher would give it
        searched: list = []

        def search(self, part, k, report_ids=None):
            self.searched.append((part, tuple(report_ids)))
            lscb = [hit(f"lscb {i}") for i in range(k)]
            plans = [hit(f"plans {i}") for i in range(k)]
            return SearchResult(parse_query(part, []), tuple(plans if "how many" in part else lscb))

    question = "What did Ofsted conclude about the LSCB, and how many children were on child protection plans?"
    whole = SearchResult(parse_query(question, []), tuple(hit(f"lscb {i}") for i in range(10)), reports=("r",))
    searcher = Parts()
    merged = searched_by_part(searcher, question, whole, 4)
    assert [h.paragraph.text for h in merged.hits] == ["lscb 0", "plans 0", "lscb 1", "plans 1"]
    assert all(ids == ("r",) for _, ids in searcher.searched)     # the reports the whole question chose
    assert replace(merged, hits=()) == replace(whole, hits=())
