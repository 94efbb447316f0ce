"""LangChain's own standard tests for retrievers, run against rag.chain.ReportRetriever (issue 10)."""
from __future__ import annotations

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from rag.answer.chain import ReportRetriever


class TestReportRetrieverStandard(RetrieversIntegrationTests):
    index_dir = ""

    @pytest.fixture(autouse=True)
    def _index(self, hashing_settings):
        type(self).index_dir = str(hashing_settings.index)

    @property
    def retriever_constructor(self) -> type[ReportRetriever]:
        return ReportRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"index": self.index_dir, "embedding_model": "hashing-256", "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return "How are care leavers supported in Wandsworth?"


def test_from_index_is_the_three_line_example_of_the_readme(hashing_settings):
    retriever = ReportRetriever.from_index(hashing_settings.index, embedding_model="hashing-256", k=3)
    docs = retriever.invoke("How are care leavers supported in Wandsworth?")
    assert len(docs) == 3 and all(d.metadata["authority"] == "Wandsworth" for d in docs)
    assert {"report", "section", "paragraph", "page", "id", "score"} <= set(docs[0].metadata)
    assert len(retriever.invoke("care leavers in Wandsworth", k=1)) == 1
