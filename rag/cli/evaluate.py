"""Score the tool on a team's own gold questions: retrieval, citations, keywords, abstention, latency.

Gold questions are JSONL lines {"id", "question", "type", "answer", "evidence": [{"file", "quote"}],
"keywords", "history"?}. Answers have the batch JSON shape {"answer", "abstained", "citations":
[{"text"}], "hits": [{"text"}]}. The metrics and text matching follow ../shared/eval/score.py
exactly (the text matching is rag.matching's), so a number here means the same as a number there.
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Re-exported for older imports (`from rag.cli.evaluate import covers`).
from rag.cli.matching import (  # noqa: F401
    NormalisedPassage,
    covers,
    keyword_hit,
    normalise,
    normalise_answer,
    words,
)
from rag.errors import GoldFileError
from rag.ofsted.authorities import canonical_authority
from rag.progress import Progress

UNANSWERABLE = "unanswerable"      # the question type where abstaining is the right answer
RETRIEVAL_DEPTHS = (1, 5, 10)
# Column order of the table and JSON; a metric is shown only when some question produced it.
METRICS = ("recall@1", "recall@5", "recall@10", "all@10", "citation_recall", "keywords", "exact_set", "answered",
           "abstain_ok", "answer_words")


# --- gold questions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    file: str
    quote: str


@dataclass(frozen=True)
class Turn:
    role: str
    content: str


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    type: str
    answer: str = ""
    evidence: tuple[Evidence, ...] = ()
    keywords: tuple[str, ...] = ()
    history: tuple[Turn, ...] = ()
    authorities: tuple[str, ...] = ()
    # A question about many authorities: exactly which ones the answer's table must list (may be none).
    expected_authorities: tuple[str, ...] | None = None

    @property
    def history_json(self) -> list[dict[str, str]]:
        return [{"role": t.role, "content": t.content} for t in self.history]


def read_jsonl(path: Path, what: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; errors name the file and the line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise GoldFileError(f"{what} file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise GoldFileError(f"{what} file {path} cannot be read as UTF-8 text: {error}") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise GoldFileError(f"{path} line {number}: not valid JSON ({error.msg}, column {error.colno}).") from None
        if not isinstance(row, dict):
            raise GoldFileError(f"{path} line {number}: expected a JSON object, got {type(row).__name__}.")
        rows.append((number, row))
    if not rows:
        raise GoldFileError(f"{what} file {path} holds no lines.")
    return rows


def _gold_item(row: dict[str, Any], where: str) -> GoldItem:
    def text(name: str, required: bool = True) -> str:
        if name not in row:
            if required:
                raise GoldFileError(f"{where}: missing field '{name}'.")
            return ""
        value = row[name]
        if not isinstance(value, str) or (required and not value.strip()):
            raise GoldFileError(f"{where}: '{name}' must be a {'non-empty ' if required else ''}string.")
        return value

    def string_list(name: str) -> tuple[str, ...]:
        value = row.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise GoldFileError(f"{where}: '{name}' must be a list of strings.")
        return tuple(value)

    item_type = text("type")
    evidence_rows = row.get("evidence")
    if evidence_rows is None and item_type != UNANSWERABLE:
        raise GoldFileError(f"{where}: missing field 'evidence' (a list of {{\"file\", \"quote\"}}).")
    evidence_rows = evidence_rows or []
    if not isinstance(evidence_rows, list) or not all(
            isinstance(e, dict) and isinstance(e.get("quote"), str) and e["quote"].strip()
            and isinstance(e.get("file", ""), str) for e in evidence_rows):
        raise GoldFileError(f"{where}: 'evidence' must be a list of {{\"file\", \"quote\"}} objects "
                            "with a non-empty quote.")
    if not evidence_rows and item_type != UNANSWERABLE:
        # Recall is a share of the evidence quotes: with none it means nothing.
        raise GoldFileError(f"{where}: a '{item_type}' question needs at least one evidence quote; "
                            f"only '{UNANSWERABLE}' questions may have none.")
    history_rows = row.get("history") or []
    if not isinstance(history_rows, list) or not all(
            isinstance(t, dict) and isinstance(t.get("role"), str) and isinstance(t.get("content"), str)
            for t in history_rows):
        raise GoldFileError(f"{where}: 'history' must be a list of {{\"role\", \"content\"}} objects.")
    expected = row.get("expected")
    if expected is not None and not (isinstance(expected, dict) and isinstance(expected.get("authorities"), list)
                                     and all(isinstance(a, str) for a in expected["authorities"])):
        raise GoldFileError(f"{where}: 'expected' must be an object with 'authorities': a list of names.")
    return GoldItem(
        expected_authorities=tuple(expected["authorities"]) if expected is not None else None,
        id=text("id"), question=text("question"), type=item_type, answer=text("answer", required=False),
        evidence=tuple(Evidence(e.get("file", ""), e["quote"]) for e in evidence_rows),
        keywords=string_list("keywords"), authorities=string_list("authorities"),
        history=tuple(Turn(t["role"], t["content"]) for t in history_rows),
    )


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read a gold-questions JSONL file; GoldFileError names the first bad line and what is wrong."""
    items: list[GoldItem] = []
    first_line_of: dict[str, int] = {}
    for number, row in read_jsonl(Path(path), "Gold questions"):
        item = _gold_item(row, f"{path} line {number}")
        if item.id in first_line_of:
            raise GoldFileError(f"{path} line {number}: id {item.id!r} is already used on line "
                                f"{first_line_of[item.id]}; answers are matched by id, so ids must be unique.")
        first_line_of[item.id] = number
        items.append(item)
    return items


def load_answers(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a batch answers JSONL file into {id: answer}; a later line with the same id wins."""
    answers: dict[str, dict[str, Any]] = {}
    for number, row in read_jsonl(Path(path), "Answers"):
        if not isinstance(row.get("id"), str):
            raise GoldFileError(f"{path} line {number}: missing field 'id' (the gold question's id).")
        answers[row["id"]] = row
    return answers


# --- scoring --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuestionScore:
    id: str
    type: str
    metrics: Mapping[str, float]
    latency: float | None = None         # seconds answer_fn took; None when answers were given
    error: str | None = None             # why answer_fn failed; the question is scored as unanswered
    missing: bool = False                # no answer at all (failed or absent from the answers)
    first_missed_quote: str | None = None   # first evidence quote not found in the top 10 hits

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "metrics": dict(self.metrics),
                "latency": None if self.latency is None else round(self.latency, 3),
                "error": self.error, "missing": self.missing, "first_missed_quote": self.first_missed_quote}


@dataclass(frozen=True)
class Summary:
    """Means over one question type, or over all questions."""
    n: int
    metrics: Mapping[str, float | None]
    median_answer_words: float | None
    latency_p50: float | None
    latency_p95: float | None


@dataclass(frozen=True)
class EvalResult:
    questions: tuple[QuestionScore, ...]
    overall: Summary
    by_type: Mapping[str, Summary] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.questions)

    @property
    def missing(self) -> list[str]:
        return [q.id for q in self.questions if q.missing]

    @property
    def failures(self) -> list[QuestionScore]:
        return [q for q in self.questions if q.error is not None]

    def to_json(self) -> dict[str, Any]:
        """score.py's keys (n, missing, median_answer_words, overall, by_type) plus latency and rows."""
        def latency(s: Summary) -> dict[str, float | None]:
            return {"p50": _round(s.latency_p50), "p95": _round(s.latency_p95)}
        return {
            "n": self.n,
            "missing": self.missing,
            "median_answer_words": self.overall.median_answer_words,
            "overall": dict(self.overall.metrics),
            "by_type": {t: dict(s.metrics) for t, s in self.by_type.items()},
            "latency": {"overall": latency(self.overall), "by_type": {t: latency(s) for t, s in self.by_type.items()}},
            "failures": [{"id": q.id, "error": q.error} for q in self.failures],
            "questions": [q.to_json() for q in self.questions],
        }

    def to_table(self) -> str:
        """An aligned text table: one row per type and one for all, metric means and latency."""
        names = [m for m in METRICS if m in self.overall.metrics]
        timed = self.overall.latency_p50 is not None
        header = ["type", "n", *names, *(["p50 s", "p95 s"] if timed else [])]

        def row(label: str, s: Summary) -> list[str]:
            cells = [label, str(s.n), *(_cell(s.metrics.get(m)) for m in names)]
            return cells + ([_cell(s.latency_p50), _cell(s.latency_p95)] if timed else [])

        rows = [header, *(row(t, s) for t, s in self.by_type.items()), row("overall", self.overall)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                 for r in rows]
        lines.insert(1, "-" * max(len(line) for line in lines))
        median = self.overall.median_answer_words
        lines.append(f"median answer words: {'' if median is None else f'{median:g}'}")
        if self.missing:
            lines.append(f"unanswered: {len(self.missing)}: {' '.join(self.missing[:20])}")
        for q in self.failures[:20]:
            lines.append(f"failed {q.id}: {q.error}")
        return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _texts(passages: Any) -> list[NormalisedPassage]:
    # Batch JSON passages are objects with "text"; a bare string is taken as the text itself.
    return [NormalisedPassage(p if isinstance(p, str) else (p or {}).get("text", "")) for p in passages or []]


def score_question(item: GoldItem, answer: Mapping[str, Any] | None) -> tuple[dict[str, float], str | None]:
    """The metrics of one answer (None = no answer) and the first evidence quote missed by the top 10."""
    answer = answer or {}
    if item.type == UNANSWERABLE:
        return {"abstain_ok": float(bool(answer.get("abstained")))}, None
    hits = _texts(answer.get("hits"))
    cited = _texts(answer.get("citations"))
    quotes = [e.quote for e in item.evidence]
    # 0-based rank of the first hit (within the deepest depth) that covers each quote, None if none.
    found_at = [next((rank for rank, h in enumerate(hits[:max(RETRIEVAL_DEPTHS)]) if h.covers(q)), None)
                for q in quotes]
    metrics = {f"recall@{k}": sum(r is not None and r < k for r in found_at) / len(quotes) for k in RETRIEVAL_DEPTHS}
    metrics["all@10"] = float(all(r is not None and r < 10 for r in found_at))
    metrics["citation_recall"] = sum(any(c.covers(q) for c in cited) for q in quotes) / len(quotes)
    text = answer.get("answer") or ""
    metrics["keywords"] = sum(keyword_hit(text, k) for k in item.keywords) / max(1, len(item.keywords))
    if item.expected_authorities is not None:
        metrics["exact_set"] = float(_listed(answer) == {_name(a) for a in item.expected_authorities})
    metrics["answered"] = float(not answer.get("abstained"))
    metrics["answer_words"] = float(len(text.split()))
    missed = next((q for q, r in zip(quotes, found_at) if r is None or r >= 10), None)
    return metrics, missed


def _name(authority: str) -> str:
    return canonical_authority(authority) or authority


def _listed(answer: Mapping[str, Any]) -> set[str]:
    """The authorities an answer's table lists (its first column, under the header)."""
    table = answer.get("table") or []
    return {_name(row[0]) for row in table[1:] if row}


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _upper_median(values: Sequence[float]) -> float | None:
    # score.py's convention: the middle value, the upper one of the two middles for an even count.
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = p / 100 * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _summarise(rows: Sequence[QuestionScore]) -> Summary:
    values: dict[str, list[float]] = {}
    for row in rows:                      # gold order, so float sums match score.py's exactly
        for name, value in row.metrics.items():
            values.setdefault(name, []).append(value)
    # Failed questions answered nothing; their (often instant) time would flatter the latency.
    latencies = [r.latency for r in rows if r.latency is not None and r.error is None]
    return Summary(
        n=len(rows),
        metrics={m: _mean(values[m]) for m in METRICS if m in values},
        median_answer_words=_upper_median(values.get("answer_words", [])),
        latency_p50=percentile(latencies, 50), latency_p95=percentile(latencies, 95),
    )


def _row(item: GoldItem, answer: Mapping[str, Any] | None, latency: float | None = None,
         error: str | None = None) -> QuestionScore:
    metrics, missed = score_question(item, answer)
    return QuestionScore(item.id, item.type, metrics, latency, error, missing=answer is None,
                         first_missed_quote=missed)


def _result(rows: Sequence[QuestionScore]) -> EvalResult:
    types = sorted({r.type for r in rows})
    return EvalResult(questions=tuple(rows), overall=_summarise(rows),
                      by_type={t: _summarise([r for r in rows if r.type == t]) for t in types})


def score_answers(gold: Sequence[GoldItem], answers_by_id: Mapping[str, Mapping[str, Any]]) -> EvalResult:
    """Score answers computed elsewhere (e.g. by `rag batch`); a question with no answer scores as empty."""
    return _result([_row(item, answers_by_id.get(item.id)) for item in gold])


AnswerFn = Callable[[str, list[dict[str, str]]], dict[str, Any]]
def evaluate(gold: Sequence[GoldItem], answer_fn: AnswerFn, *, progress: Progress | None = None) -> EvalResult:
    """Ask answer_fn(question, history) each gold question once, timing it, and score the answers.

    An answer_fn that raises (or returns something other than a dict) fails that question only: the
    error is kept and the question is scored as unanswered. progress("evaluating", done, total) follows each one.
    """
    rows = []
    for done, item in enumerate(gold, start=1):
        answer, error = None, None
        started = time.perf_counter()
        try:
            answer = answer_fn(item.question, item.history_json)
            if not isinstance(answer, Mapping):
                answer, error = None, f"answer_fn returned {type(answer).__name__}, not a dict"
        except Exception as failure:  # noqa: BLE001 - one bad question must not end a long run
            error = f"{type(failure).__name__}: {failure}"
        rows.append(_row(item, answer, time.perf_counter() - started, error))
        if progress is not None:
            progress("evaluating", done, len(gold))
    return _result(rows)
