"""rag.cli.evaluate: agreement with the shared score.py, latency/failures, the gold loader
(normalisation and matching: test_matching.py)."""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from rag.cli import evaluate as ev
from rag.errors import GoldFileError, RagError
from rag.records import NOT_IN_REPORTS
from tests.conftest import GOLD as DEV_JSONL

# --- 1. agreement with score.py on synthetic answers for the real gold items ----------------------

DIGIT_WORDS = {"3": "three", "5": "five", "12": "twelve", "20": "twenty", "40": "forty"}


def _markup(text: str, rng: random.Random) -> str:
    """The text as a PDF/markdown extraction might print it: typography, tags, marks, line breaks."""
    out = text.replace("'", "\u2019").replace("-", rng.choice(["\u2013", "\u2011", "-"]))
    tokens = out.split(" ")
    for i in rng.sample(range(len(tokens)), k=max(1, len(tokens) // 3)):
        tokens[i] = rng.choice(["**{}**", "<em>{}</em>", "_{}_", "{}<sup>3</sup>", "`{}`"]).format(tokens[i])
    out = " ".join(tokens)
    long_words = re.findall(r"[A-Za-z]{8,}", out)
    if long_words:                           # a word hyphenated across a line break
        w = rng.choice(long_words)
        out = out.replace(w, f"{w[:4]}-\n  {w[4:]}", 1)
    return "# Heading\n" + out.upper() if rng.random() < 0.3 else out


def _partial(quote: str, share: float) -> str:
    tokens = quote.split()
    return " ".join(tokens[: max(1, round(len(tokens) * share))])


def _drop_every(quote: str, n: int) -> str:
    return " ".join(w for i, w in enumerate(quote.split()) if i % n != n - 1)


def _variant(quote: str, rng: random.Random) -> str:
    kind = rng.choice(["exact", "markup", "partial", "dropped", "split", "padded", "unrelated"])
    if kind == "exact":
        return quote
    if kind == "split":                       # the quote broken in two with other words between
        tokens = quote.split()
        cut = rng.randint(1, max(1, len(tokens) - 1))
        return " ".join(tokens[:cut]) + " and, separately, " + " ".join(tokens[cut:])
    if kind == "markup":
        return _markup(quote, rng)
    if kind == "partial":
        return _partial(quote, rng.choice([0.45, 0.55, 0.6, 0.65, 0.7, 0.8]))
    if kind == "dropped":
        return _drop_every(quote, rng.choice([2, 3, 4, 5]))
    if kind == "padded":
        return f"Inspectors noted the following. {quote} This was confirmed in case files."
    return "The local authority's arrangements for private fostering are adequate."


def _answer_text(gold: dict, rng: random.Random) -> str:
    kind = rng.choice(["gold", "markup", "words", "keywords", "empty", "not"])
    if kind == "gold":
        return gold["answer"]
    if kind == "markup":
        return _markup(gold["answer"], rng)
    if kind == "words":   # numbers spelt out, 'per cent', thousands separators dropped or kept
        text = gold["answer"].replace("%", " per cent").replace("2,849", rng.choice(["2849", "2,849"]))
        return re.sub(r"\b\d+\b", lambda m: DIGIT_WORDS.get(m.group(), m.group()), text)
    if kind == "keywords":
        keys = gold.get("keywords") or []
        chosen = rng.sample(keys, k=rng.randint(0, len(keys)))
        return "; ".join(_markup(k, rng) if rng.random() < 0.5 else k for k in chosen) if keys else "nothing"
    if kind == "empty":
        return ""
    return NOT_IN_REPORTS


def _synthetic_answers(gold_rows: list[dict], seed: int) -> list[dict]:
    rng = random.Random(seed)
    filler = [q["quote"] for g in gold_rows for q in g["evidence"]]
    answers = []
    for gold in gold_rows:
        if rng.random() < 0.1:
            continue                          # missing: score.py scores it as an empty answer
        quotes = [e["quote"] for e in gold["evidence"]]
        hits = [{"text": rng.choice(filler)} for _ in range(rng.randint(0, 12))]
        for quote in quotes:
            if rng.random() < 0.8:            # place each evidence variant at a random rank, maybe past 10
                hits.insert(rng.randint(0, len(hits)), {"text": _variant(quote, rng)})
        citations = [{"text": _variant(q, rng), "n": i + 1} for i, q in enumerate(quotes) if rng.random() < 0.6]
        answer = {"id": gold["id"], "answer": _answer_text(gold, rng), "abstained": rng.random() < 0.25,
                  "citations": citations, "hits": hits}
        if rng.random() < 0.1:
            answer["hits"] = None             # a batch that returned no hits field value
        answers.append(answer)
    return answers


def _score_py_keys(result: ev.EvalResult) -> dict:
    data = result.to_json()
    return {k: data[k] for k in ("n", "missing", "median_answer_words", "overall", "by_type")}


# Hand-made items for what dev.jsonl lacks: short quotes (bigram rule), apostrophes in keywords.
EXTRA_GOLD = [
    {"id": "x1", "question": "Short?", "type": "lookup", "answer": "The children's guardian.",
     "evidence": [{"file": "f", "quote": "the children's guardian service"}, {"file": "f", "quote": "Ofsted"},
                  {"file": "f", "quote": "early help hub"}],
     "keywords": ["children's guardian", "twenty-one", "40%"]},
    {"id": "x2", "question": "Five words?", "type": "numeric", "answer": "Forty per cent of 1,250 carers.",
     "evidence": [{"file": "f", "quote": "forty per cent of carers"}, {"file": "f", "quote": "a b c d e f"}],
     "keywords": ["40%", "1250", "carers'"]},
]


def _gold_rows(tmp_path: Path) -> tuple[list[dict], list[ev.GoldItem]]:
    rows = [json.loads(line) for line in DEV_JSONL.read_text().splitlines() if line.strip()] + EXTRA_GOLD
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows, ev.load_gold(path)


@pytest.mark.parametrize("seed", range(12))
def test_agrees_with_score_py_on_varied_answers(score_py, tmp_path, seed):
    gold_rows, gold = _gold_rows(tmp_path)
    answers = _synthetic_answers(gold_rows, seed)
    ours = ev.score_answers(gold, {a["id"]: a for a in answers})
    assert _score_py_keys(ours) == score_py.score(gold_rows, answers)


def test_agrees_with_score_py_on_perfect_and_on_no_answers(score_py):
    gold_rows = [json.loads(line) for line in DEV_JSONL.read_text().splitlines() if line.strip()]
    gold = ev.load_gold(DEV_JSONL)
    perfect = [{"id": g["id"], "answer": g["answer"], "abstained": g["type"] == "unanswerable",
                "citations": [{"text": e["quote"]} for e in g["evidence"]],
                "hits": [{"text": e["quote"]} for e in g["evidence"]]} for g in gold_rows]
    result = ev.score_answers(gold, {a["id"]: a for a in perfect})
    assert _score_py_keys(result) == score_py.score(gold_rows, perfect)
    assert result.overall.metrics["recall@10"] == 1.0 and result.overall.metrics["abstain_ok"] == 1.0
    nothing = ev.score_answers(gold, {})
    assert _score_py_keys(nothing) == score_py.score(gold_rows, [])
    assert nothing.missing == [g["id"] for g in gold_rows]


def test_agrees_with_score_py_through_evaluate(score_py):
    gold_rows = [json.loads(line) for line in DEV_JSONL.read_text().splitlines() if line.strip()]
    answers = {a["id"]: a for a in _synthetic_answers(gold_rows, seed=99)}
    question_to_id = {g["question"]: g["id"] for g in gold_rows}

    def answer_fn(question, history):
        found = answers.get(question_to_id[question])
        if found is None:
            raise RuntimeError("engine down")
        return found

    result = ev.evaluate(ev.load_gold(DEV_JSONL), answer_fn)
    assert _score_py_keys(result) == score_py.score(gold_rows, list(answers.values()))
    assert {q.id for q in result.failures} == set(result.missing)


# --- 2. latency and failures ---------------------------------------------------------------------

def _item(id_: str, type_: str = "lookup", quote: str = "Good practice is evident.", **extra) -> ev.GoldItem:
    evidence = () if type_ == "unanswerable" else (ev.Evidence("f.txt", quote),)
    return ev.GoldItem(id=id_, question=f"question {id_}?", type=type_, evidence=evidence, **extra)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_latency_per_type_and_failures_are_recorded(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(ev.time, "perf_counter", clock)
    gold = [_item("a"), _item("b"), _item("c"), _item("d"), _item("u", "unanswerable"),
            _item("f", keywords=("x",)), _item("g")]
    seconds = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "u": 10.0, "f": 0.001, "g": 0.5}
    seen_history = {}

    def answer_fn(question, history):
        id_ = question.split()[1].rstrip("?")
        clock.now += seconds[id_]
        seen_history[id_] = history
        if id_ == "f":
            raise ValueError("model crashed")
        if id_ == "g":
            return "not a dict"
        return {"answer": "Good practice", "abstained": id_ == "u",
                "hits": [{"text": "Good practice is evident."}], "citations": []}

    calls = []
    result = ev.evaluate(gold, answer_fn, progress=lambda stage, done, total: calls.append((stage, done, total)))

    assert calls == [("evaluating", i + 1, 7) for i in range(len(gold))]
    assert seen_history["a"] == []
    assert [q.latency for q in result.questions] == pytest.approx([seconds[g.id] for g in gold])
    by_id = {q.id: q for q in result.questions}
    assert by_id["f"].error == "ValueError: model crashed" and by_id["f"].missing
    assert by_id["g"].error == "answer_fn returned str, not a dict"
    assert [q.id for q in result.failures] == ["f", "g"] and result.missing == ["f", "g"]
    assert by_id["f"].metrics["recall@10"] == 0.0          # a failure scores as an empty answer
    # Failures are left out of latency: lookup times are 1, 2, 3, 4.
    lookup = result.by_type["lookup"]
    assert lookup.n == 6
    assert lookup.latency_p50 == pytest.approx(2.5)
    assert lookup.latency_p95 == pytest.approx(3.85)
    assert result.by_type["unanswerable"].latency_p50 == pytest.approx(10.0)
    assert result.overall.latency_p50 == pytest.approx(3.0)
    data = json.loads(json.dumps(result.to_json()))
    assert data["failures"] == [{"id": "f", "error": "ValueError: model crashed"},
                                {"id": "g", "error": "answer_fn returned str, not a dict"}]
    assert data["latency"]["by_type"]["lookup"] == {"p50": 2.5, "p95": 3.85}
    assert data["questions"][0]["latency"] == 1.0
    assert "failed f: ValueError: model crashed" in result.to_table()


def test_history_is_passed_as_role_content_dicts():
    item = _item("h", history=(ev.Turn("user", "What is EHITS?"), ev.Turn("assistant", "An IT system.")))
    seen = []
    ev.evaluate([item], lambda q, history: seen.append(history) or {"answer": "", "hits": []})
    assert seen == [[{"role": "user", "content": "What is EHITS?"},
                     {"role": "assistant", "content": "An IT system."}]]


def test_first_missed_quote_and_table_shape():
    gold = [ev.GoldItem("m", "q?", "multi_hop", evidence=(ev.Evidence("a", "Alpha beta gamma delta."),
                                                           ev.Evidence("b", "Quite another sentence here.")))]
    result = ev.score_answers(gold, {"m": {"answer": "", "hits": [{"text": "Alpha beta gamma delta."}]}})
    row = result.to_json()["questions"][0]
    assert row["first_missed_quote"] == "Quite another sentence here."
    assert row["metrics"]["recall@1"] == 0.5 and row["latency"] is None
    table = result.to_table().splitlines()
    assert table[0].split() == ["type", "n", "recall@1", "recall@5", "recall@10", "all@10", "citation_recall",
                                "keywords", "answered", "answer_words"]   # no latency: answers were given
    assert table[2].split()[:3] == ["multi_hop", "1", "0.500"] and table[3].startswith("overall")
    assert len({len(line) for line in table[:4]}) == 1                # columns line up


def test_percentile_interpolates():
    assert ev.percentile([], 50) is None
    assert ev.percentile([5.0], 95) == 5.0
    assert ev.percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert ev.percentile([float(i) for i in range(1, 21)], 95) == pytest.approx(19.05)


# --- 3. the gold loader --------------------------------------------------------------------------

GOOD = {"id": "q1", "question": "What?", "type": "lookup", "answer": "This.",
        "evidence": [{"file": "a.txt", "quote": "This is it."}], "keywords": ["this"]}


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_gold_reads_items_and_skips_blank_lines(tmp_path):
    followup = {**GOOD, "id": "q2", "history": [{"role": "user", "content": "Hi"}], "authorities": ["X"]}
    unanswerable = {"id": "q3", "question": "Who?", "type": "unanswerable"}
    items = ev.load_gold(_write(tmp_path, json.dumps(GOOD), "", json.dumps(followup), json.dumps(unanswerable)))
    assert [i.id for i in items] == ["q1", "q2", "q3"]
    assert items[0].evidence == (ev.Evidence("a.txt", "This is it."),) and items[0].keywords == ("this",)
    assert items[1].history == (ev.Turn("user", "Hi"),) and items[1].authorities == ("X",)
    assert items[2].evidence == () and items[2].answer == ""


@pytest.mark.parametrize("lines, message", [
    ([json.dumps(GOOD), "{not json"], "line 2: not valid JSON"),
    (["", json.dumps(["a list"])], "line 2: expected a JSON object"),
    ([json.dumps({k: v for k, v in GOOD.items() if k != "question"})], "line 1: missing field 'question'"),
    ([json.dumps({k: v for k, v in GOOD.items() if k != "evidence"})], "line 1: missing field 'evidence'"),
    ([json.dumps({**GOOD, "evidence": []})], "line 1: a 'lookup' question needs at least one evidence quote"),
    ([json.dumps({**GOOD, "evidence": [{"file": "a"}]})], "'evidence' must be a list"),
    ([json.dumps({**GOOD, "id": 7})], "'id' must be a non-empty string"),
    ([json.dumps({**GOOD, "keywords": "this"})], "'keywords' must be a list of strings"),
    ([json.dumps({**GOOD, "history": [{"role": "user"}]})], "'history' must be a list"),
    ([json.dumps(GOOD), json.dumps(GOOD)], "line 2: id 'q1' is already used on line 1"),
    (["", "  "], "holds no lines"),
])
def test_load_gold_errors_name_the_line(tmp_path, lines, message):
    with pytest.raises(GoldFileError, match=re.escape(message)) as caught:
        ev.load_gold(_write(tmp_path, *lines))
    assert isinstance(caught.value, RagError) and str(tmp_path) in str(caught.value)


def test_load_gold_missing_file(tmp_path):
    with pytest.raises(GoldFileError, match="does not exist"):
        ev.load_gold(tmp_path / "nope.jsonl")


def test_load_answers(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps({"id": "a", "answer": "1"}) + "\n" + json.dumps({"id": "a", "answer": "2"}) + "\n")
    assert ev.load_answers(path) == {"a": {"id": "a", "answer": "2"}}
    path.write_text(json.dumps({"answer": "no id"}) + "\n")
    with pytest.raises(GoldFileError, match="line 1: missing field 'id'"):
        ev.load_answers(path)
