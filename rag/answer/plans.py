"""What a plan is: which passages an engine sees (one group, or one per authority in a comparison), or the
answer itself when it comes from data, with what is said around it."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rag.answer.verify import Passage
from rag.records import Judgement
from rag.search.question import Query
from rag.search.retrieval import SearchResult


class PlanMode(StrEnum):
    ABSTAIN = "abstain"         # nothing to answer from: the text says why
    JUDGEMENT = "judgement"     # graded judgements, answered from the table
    TABLE = "table"             # a question about many authorities, answered from the judgements table
    COMPARE = "compare"         # one group of passages per authority
    SINGLE = "single"           # one group of passages


@dataclass(frozen=True)
class Group:
    """Passages for one part of an answer: one authority in a comparison, or the whole answer."""
    authority: str | None
    passages: tuple[Passage, ...]
    question: str                           # what the engine is asked for this group
    topic: str = ""                         # the question without authority names and years (for scoring)
    reasons: str = ""                       # a why-question: "weaknesses" or "strengths" that explain a grade;
                                            # "improvements": the report's list of what needs to improve
    grades: str = ""                        # a comparison cell's grade of the area asked, said before its prose


@dataclass(frozen=True)
class Plan:
    question: str
    standalone: str
    result: SearchResult
    mode: PlanMode
    groups: tuple[Group, ...] = ()
    text: str = ""                          # the answer itself when it comes from data (abstain, judgement)
    judgements: tuple[Judgement, ...] = field(default=())
    preface: str = ""                       # said before the answer: a report asked for is not in the corpus
    notes: tuple[str, ...] = ()             # said after it: which report was used, what else exists
    table: tuple[tuple[str, ...], ...] = () # rows from data (a table question, a timeline)
    grades: str = ""                        # the grade of the area asked about, said before the prose
    verdict: str = ""                       # 'Yes.' / 'No.' to a yes/no question the grades settle, said first

    @property
    def query(self) -> Query:
        return self.result.query

    @property
    def engine_writes(self) -> bool:
        """Whether an engine writes this answer (otherwise it comes from data)."""
        return self.mode in (PlanMode.SINGLE, PlanMode.COMPARE)

