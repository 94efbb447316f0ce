"""`rag batch`: a JSONL file of questions answered in one process (models load once)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from rag.cli.evaluate import read_jsonl
from rag.errors import ConfigError, RagError
from rag.records import Answer
from rag.text.sanitize import csv_cell


def answer_json(answer: Answer) -> dict:
    return answer.to_json()


def read_questions(path: Path) -> list[dict]:
    """{id, question, history?} per line; errors name the file and the line (as for gold files)."""
    rows = []
    for number, row in read_jsonl(path, "Questions"):
        if not isinstance(row.get("question"), str):
            raise ConfigError(f"{path} line {number}: each line needs a \"question\" string (and an \"id\").")
        row.setdefault("id", str(number))
        rows.append(row)
    return rows


def run_batch(bot, questions: Path, out: Path, *, csv_path: Path | None = None, progress=None,
              notice=None) -> tuple[int, int]:
    """notice(text): called for an answer whose engine failed (it was extracted from the reports)."""
    rows = read_questions(questions)
    bot.load()                         # the index and models load once, before the first question
    done = failed = 0
    results = []
    with out.open("w", encoding="utf-8") as sink:
        for number, row in enumerate(rows, start=1):
            try:
                answer = bot.ask(row["question"], row.get("history") or ())
                record = {"id": row["id"], **answer_json(answer)}
                done += 1
                if answer.notice and notice:
                    notice(answer.notice)
            except RagError as e:
                record = {"id": row["id"], "question": row["question"], "answer": "", "abstained": False,
                          "citations": [], "hits": [], "error": str(e)}
                failed += 1
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            results.append(record)
            if progress:
                progress("answering", number, len(rows))
    if csv_path:
        write_csv(results, csv_path)
    return done, failed


def write_csv(records: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "question", "answer", "abstained", "references", "verified_claims", "total_claims"])
        for r in records:
            refs = "; ".join(f"[{c['n']}] {c['authority'] or '?'} {c['date'] or ''} {c['section']} "
                             f"para {c['paragraph'] or '-'} p.{c['page'] or '-'} ({c['id']})"
                             for c in r.get("citations", []))
            claims = r.get("claims") or {}
            writer.writerow([csv_cell(x) for x in (r["id"], r.get("question", ""), r.get("answer", ""),
                                                   r.get("abstained", False), refs, claims.get("verified", ""),
                                                   claims.get("total", ""))])
