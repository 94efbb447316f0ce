"""A question that names no report is about the latest one; when only an earlier report says, that report
answers and the answer says so (rag.answer.earlier)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer.chain import extractive_runnable
from rag.answer.finish import check_groups, finish
from rag.answer.plan import plan
from rag.index.embedding import HashingEmbedder
from rag.index.reader import Index
from rag.index.writer import write_index
from rag.records import Paragraph
from rag.search.retrieval import Searcher
from tests.test_over_time import all_areas, inspection


def with_finding(report, text: str):
    n = len(report.paragraphs)
    extra = Paragraph(f"{report.id}:{n:04d}", report.id, n, text, text, ("Care leavers",), str(n + 1), 3)
    return replace(report, paragraphs=report.paragraphs + (extra,))


OLDER = with_finding(inspection("Rutland", "2019-09-19", all_areas("good")),
                     "The local authority transferred the leaving care service in-house in July 2019, after "
                     "attempts to improve the commissioned provider failed.")
LATEST = with_finding(inspection("Rutland", "2024-01-11", all_areas("good")),
                      "Personal advisers keep in touch with care leavers and know them well.")


@pytest.fixture(scope="module")
def searcher(tmp_path_factory) -> Searcher:
    folder = tmp_path_factory.mktemp("earlier-index")
    embedder = HashingEmbedder(64)
    write_index(folder, [OLDER, LATEST], embedder, pipeline_version="test")
    return Searcher(Index.load(folder, embedder_name=embedder.name, pipeline_version="test"), embedder)


def answered(searcher: Searcher, question: str):
    the_plan = plan(searcher, question)
    texts = [extractive_runnable(lambda: searcher.index.word_weights).invoke(g) for g in the_plan.groups]
    return the_plan, finish(the_plan, check_groups(the_plan, texts), engine="extractive")


def test_what_only_an_earlier_report_says_is_answered_from_it_and_labelled(searcher):
    the_plan, answer = answered(searcher, "When did Rutland take its leaving care service in-house?")
    assert the_plan.result.reports == (OLDER.id,)
    assert "July 2019" in answer.text and not answer.abstained
    assert all(c.report.id == OLDER.id for c in answer.citations)
    assert "The latest report on Rutland" in answer.text and "does not say" in answer.text


def test_what_the_latest_report_says_stays_with_the_latest(searcher):
    the_plan, answer = answered(searcher, "Do personal advisers in Rutland keep in touch with care leavers?")
    assert the_plan.result.reports == (LATEST.id,)
    assert "does not say; this answer is from" not in answer.text


def test_a_report_named_is_not_left_for_another(searcher):
    the_plan, answer = answered(searcher, "When did Rutland take its leaving care service in-house, according to "
                                          "its 2024 inspection?")
    assert the_plan.result.reports == (LATEST.id,)
