"""A question that names no report is about the authority's latest one. When the latest report does not
say (Derbyshire took its leaving care service back in-house in July 2019, and only the 2019 report tells
it), the newest earlier report that does answers instead, and the answer says which and why: the current
report first, history only when the current report is silent and always labelled."""
from __future__ import annotations

from dataclasses import replace

from rag.answer.extractive import best_sentences
from rag.answer.verify import Passage
from rag.records import Hit
from rag.search.reports import date_cue, describe_report
from rag.search.retrieval import Searcher, SearchResult

SEEN = 5        # passages of a report read to tell whether it answers (the extractive engine's number)
# Leaving the current report needs a sentence that states most of what is asked (the extractive score: the
# share of the question's weighted topic words it holds, plus small bonuses), not just any on-topic sentence.
STRONG = 0.5


def from_earlier_report(searcher: Searcher, question: str, result: SearchResult, k: int) -> SearchResult | None:
    """The search result moved to the newest earlier report of the one authority that answers the question,
    with a note saying so; None when the latest report answers, a date was named, or no earlier one does."""
    choices = [c for c in result.choices if c.reports]
    if len(choices) != 1 or len(choices[0].reports) != 1 or choices[0].timeline or choices[0].missing \
            or not choices[0].others or date_cue(question).named:
        return None
    choice, weights = choices[0], searcher.index.word_weights
    if _answers(question, result.hits, weights):
        return None
    latest = choice.reports[0]
    for report in reversed(choice.others):          # newest first: the most recent word on it
        hits = searcher.search(question, k, report_ids=[report.id], query=result.query).hits
        if _answers(question, hits, weights, STRONG):
            note = (f"The latest report on {choice.authority} ({describe_report(latest)}) does not say; this "
                    f"answer is from its earlier {describe_report(report)}.")
            others = tuple(r for r in (*choice.others, latest) if r.id != report.id)
            moved = replace(choice, reports=(report,), note=note, others=others)
            return replace(result, hits=hits, reports=(report.id,), choices=(moved,))
    return None


def _answers(question: str, hits: tuple[Hit, ...], weights: dict[str, float], at_least: float = 0.0) -> bool:
    passages = [Passage(i, h) for i, h in enumerate(hits[:SEEN], start=1)]
    best = best_sentences(question, passages, weights=weights, limit=1) if passages else []
    return bool(best) and best[0][2] >= at_least
