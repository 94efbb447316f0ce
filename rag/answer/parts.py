"""Two things asked at once ('What did the review of the LSCB conclude, and how many children were on child
protection plans?'): the parts of such a question, which of them asks how a graded area did, and a search
that gives each part its own share of the passages."""
from __future__ import annotations

import re
from dataclasses import replace

from rag.answer.extractive import asks_two_things, expected_kinds
from rag.records import Hit
from rag.search.grammar import topic_words
from rag.search.question import Query, parse_query
from rag.search.retrieval import Searcher, SearchResult

PARTS = re.compile(r",?\s+and\s+(?=(?:what|how|why|which|who|when|where)\b)|[;?]\s+", re.I)


def searched_by_part(searcher: Searcher, question: str, result: SearchResult, k: int) -> SearchResult:
    """Two things asked at once ('what did the review conclude, and how many children ...?'): each part
    searched on its own in the same reports and the lists interleaved, so one part's paragraphs cannot
    crowd out the other's."""
    parts = [part for part in PARTS.split(question) if topic_words(part)]
    if len(parts) < 2 or not result.reports:
        return result
    lists = [searcher.search(part, k, report_ids=result.reports).hits for part in parts] + [result.hits]
    merged: dict[str, Hit] = {}
    for rank in range(k):
        for hits in lists:
            if rank < len(hits):
                merged.setdefault(hits[rank].paragraph.id, hits[rank])
    return replace(result, hits=tuple(list(merged.values())[:k]))


def asks_a_figure_too(query: Query, searcher: Searcher) -> bool:
    """A grade and a figure asked together: one part asks how an area did, another for a number or date."""
    return (asks_two_things(query.text) and any(expected_kinds(part) for part in PARTS.split(query.text) if part)
            and bool(areas_of_graded_parts(query, searcher)))


def areas_of_graded_parts(query: Query, searcher: Searcher) -> list[str]:
    """The areas named where the question asks how they did: a grade answers 'how did they do', not 'how
    many' or 'when' ('What did the review of the LSCB conclude, and how many children were on child
    protection plans?' asks about the LSCB, not about help and protection)."""
    if not asks_two_things(query.text):
        return [] if expected_kinds(query.text) else list(query.areas_named)
    graded: set[str] = set()
    for part in PARTS.split(query.text):
        if part.strip() and not expected_kinds(part):
            graded |= set(parse_query(part, searcher.authorities).areas_named)
    return [a for a in query.areas_named if a in graded]
