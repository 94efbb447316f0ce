"""`rag batch`: questions read from JSONL with errors that name the line; one failing question is recorded
and the others still answered; the CSV summary."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from rag.cli.batch import read_questions, run_batch, write_csv
from rag.errors import ConfigError, EngineError, RagError
from rag.records import Answer, Citation, Claim
from tests.helpers import make_report

REPORT = make_report("testshire-2015", "Testshire", ["Children are seen within a day of referral."])


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_questions_defaults_ids_to_the_line_number(tmp_path):
    path = _write(tmp_path / "q.jsonl", ['{"id": "q-a", "question": "First?"}', "",
                                         '{"question": "Third?", "history": [{"role": "user", "content": "x"}]}'])
    rows = read_questions(path)
    assert [r["id"] for r in rows] == ["q-a", "3"]          # the file's line number, blank lines counted
    assert rows[1]["history"] == [{"role": "user", "content": "x"}]


@pytest.mark.parametrize("line", ['{"id": "x"}', '{"question": 42}'])
def test_a_line_without_a_question_names_the_line(tmp_path, line):
    path = _write(tmp_path / "q.jsonl", ['{"question": "Fine?"}', line])
    with pytest.raises(ConfigError, match=r"q\.jsonl line 2: .*\"question\""):
        read_questions(path)


@pytest.mark.parametrize("line", ['{"question": "Broken?"', "[1, 2]"])
def test_a_line_that_is_not_a_json_object_names_the_line(tmp_path, line):
    path = _write(tmp_path / "q.jsonl", ['{"question": "Fine?"}', '{"question": "Also fine?"}', line])
    with pytest.raises(RagError, match=r"q\.jsonl line 3"):
        read_questions(path)


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path):
    with pytest.raises(RagError, match="does not exist"):
        read_questions(tmp_path / "nope.jsonl")


class FakeBot:
    """load() once, then ask(); a question containing 'fail' raises EngineError."""

    def __init__(self):
        self.loaded = 0
        self.asked: list[tuple] = []

    def load(self):
        self.loaded += 1

    def ask(self, question, history=()):
        assert self.loaded == 1, "the models must load before the first question"
        self.asked.append((question, tuple(history)))
        if "fail" in question:
            raise EngineError("The Ollama server did not answer.")
        citation = Citation(1, REPORT.paragraphs[0], REPORT, "Children are seen within a day of referral.")
        return Answer(question, "Children are seen within a day [1].", False, citations=(citation,),
                      claims=(Claim("Children are seen within a day [1].", (1,), True),
                              Claim("Unsupported.", (), False)), engine="fake")


def test_run_batch_records_a_failing_question_and_answers_the_rest(tmp_path):
    questions = _write(tmp_path / "q.jsonl", [
        '{"id": "one", "question": "How fast?"}',
        '{"id": "two", "question": "Please fail?"}',
        '{"question": "And then?", "history": [{"role": "user", "content": "How fast?"}]}'])
    bot, progress = FakeBot(), []
    out = tmp_path / "answers.jsonl"
    done, failed = run_batch(bot, questions, out, progress=lambda *a: progress.append(a))
    assert (done, failed) == (2, 1)
    assert bot.loaded == 1 and [q for q, _ in bot.asked] == ["How fast?", "Please fail?", "And then?"]
    assert bot.asked[2][1] == ({"role": "user", "content": "How fast?"},)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["one", "two", "3"]
    assert records[1]["error"] == "The Ollama server did not answer." and records[1]["answer"] == ""
    assert records[1]["question"] == "Please fail?" and records[1]["citations"] == []
    for r in (records[0], records[2]):
        assert "error" not in r and r["answer"] == "Children are seen within a day [1]."
        assert r["citations"][0]["n"] == 1 and r["claims"] == {"total": 2, "verified": 1,
                                                                 "unsupported": ["Unsupported."]}
    assert progress == [("answering", 1, 3), ("answering", 2, 3), ("answering", 3, 3)]


def test_a_bad_questions_file_fails_before_any_model_loads(tmp_path):
    bot = FakeBot()
    with pytest.raises(ConfigError, match="line 1"):
        run_batch(bot, _write(tmp_path / "q.jsonl", ['{"id": 1}']), tmp_path / "out.jsonl")
    assert bot.loaded == 0 and not (tmp_path / "out.jsonl").exists()


def test_run_batch_writes_the_csv_summary(tmp_path):
    questions = _write(tmp_path / "q.jsonl", ['{"id": "one", "question": "How fast?"}',
                                              '{"id": "two", "question": "fail"}'])
    run_batch(FakeBot(), questions, tmp_path / "a.jsonl", csv_path=tmp_path / "a.csv")
    rows = list(csv.reader((tmp_path / "a.csv").open(encoding="utf-8", newline="")))
    assert rows[0] == ["id", "question", "answer", "abstained", "references", "verified_claims", "total_claims"]
    assert rows[1] == ["one", "How fast?", "Children are seen within a day [1].", "False",
                       "[1] Testshire 2015-06-01 Section para 1 p.1 (testshire-2015:00000000)", "1", "2"]
    assert rows[2] == ["two", "fail", "", "False", "", "", ""]
    assert len(rows) == 3


def test_write_csv_marks_a_missing_authority_paragraph_number_and_page(tmp_path):
    record = {"id": "x", "question": "q", "answer": "a [1] [2]", "abstained": True,
              "claims": {"total": 0, "verified": 0},
              "citations": [{"n": 1, "authority": None, "date": None, "section": "", "paragraph": None, "page": None,
                             "id": "a:1"},
                            {"n": 2, "authority": "B", "date": "2011", "section": "S > T", "paragraph": "4",
                             "page": 9, "id": "b:2"}]}
    write_csv([record], tmp_path / "x.csv")
    rows = list(csv.reader((tmp_path / "x.csv").open(encoding="utf-8", newline="")))
    assert rows[1][3] == "True" and rows[1][5:] == ["0", "0"]
    assert " ".join(rows[1][4].split()) == "[1] ? para - p.- (a:1); [2] B 2011 S > T para 4 p.9 (b:2)"
