"""The LangChain edge: the answer chain built from Runnables, and a retriever for users' own chains.

a plan's group of passages (rag.answer.plan) -> prompt (prompts/) -> chat model -> text with [n] keys,
which rag.answer.finish checks. The extractive engine is a Runnable too, so every engine runs through the same
chain and the same checks. Only this module and rag.answer.chat_models import LangChain.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from rag.answer import extractive
from rag.answer.plans import Group
from rag.answer.prompts import Prompts, format_passages
from rag.records import NOT_IN_REPORTS, paragraph_json
from rag.search.retrieval import Searcher
from rag.settings import Settings


def extractive_runnable(weights: Callable[[], Mapping[str, float]] | None = None) -> Runnable:
    """Group -> the best sentences of its passages with their keys. `weights()`: word IDFs over the corpus."""
    return RunnableLambda(lambda group: extractive.compose(group.topic or group.question, group.passages,
                                                            limit=2 if group.authority else 3,
                                                            max_words=60 if group.authority else 110,
                                                            weights=weights() if weights else None,
                                                            reasons=group.reasons))


def model_runnable(prompts: Prompts, model: Any, passages: int = 3, words: int = 90) -> Runnable:
    """Group -> what the chat model writes from the prompt and the group's first `passages` passages, each
    cut to its `words` words nearest the question."""
    prompt = ChatPromptTemplate.from_messages([("system", prompts.system), ("human", prompts.user)])
    # In a comparison the model is asked once per authority: two passages each keeps every call short.
    to_inputs = RunnableLambda(lambda group: {"passages": format_passages(
                                                  group.passages[:min(passages, 2) if group.authority else passages],
                                                  group.question, words, group.reasons),
                                              "question": model_question(group), "not_in_reports": NOT_IN_REPORTS})
    return to_inputs | prompt | model | StrOutputParser()


def model_question(group: Group) -> str:
    """What the model is asked. A why-question's grade is already stated from the judgements table: the model
    is asked for the findings behind it, which a small model otherwise skips to restate the question."""
    if not group.reasons:
        return group.question
    if group.reasons == "improvements":
        return f"What do the passages say needs to improve? (Asked: {group.question})"
    return f"What {group.reasons} do the passages report? (They explain the grade in: {group.question})"


class ReportRetriever(BaseRetriever):
    """A LangChain retriever over the same hybrid search (dense + BM25, restricted to the authorities and
    year a question names), for users' own chains:

        retriever = ReportRetriever.from_index("index/", k=5)
        docs = retriever.invoke("How are care leavers supported in Wandsworth?")
        chain = {"context": retriever, "question": RunnablePassthrough()} | prompt | model

    Documents carry the paragraph text and the citation fields (authority, report, title, date, section,
    paragraph, page, id) and the score as metadata. `k` may also be given per call: `invoke(q, k=3)`.
    The index and models load on first use, once per retriever.
    """

    index: str | None = None                  # index folder; None = RAG_INDEX (default index/)
    k: int = 10
    authorities: Sequence[str] | None = None  # restrict to these authorities (canonical names)
    year: int | None = None                   # restrict to reports of this year
    embedding_model: str | None = None        # None = RAG_EMBEDDING_MODEL (must be the model the index was built with)
    searcher: Any = None                      # a loaded rag Searcher (or Assistant), to share its models

    @classmethod
    def from_index(cls, index: str | Path = "index", **options: Any) -> ReportRetriever:
        """A retriever over the index folder `index` (built by `rag ingest`)."""
        return cls(index=str(index), **options)

    def _search(self) -> Any:
        if self.searcher is None:
            settings = Settings.from_env(index=Path(self.index) if self.index else None,
                                         embedding_model=self.embedding_model)
            self.searcher = Searcher.open(settings)
        return self.searcher

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None) -> list[Document]:
        result = self._search().search(query, k or self.k, authorities=self.authorities, year=self.year)
        return [Document(page_content=h.paragraph.text, id=h.paragraph.id,
                         metadata={**{key: v for key, v in paragraph_json(h.paragraph, h.report).items()
                                      if key != "text"}, "score": h.score})
                for h in result.hits[:k or self.k]]
