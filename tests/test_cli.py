"""The `rag` command in-process: output formats, exit codes and messages."""
import json
import re

import pytest

from rag.cli.main import main


@pytest.fixture()
def run(default_settings, monkeypatch, capsys):
    monkeypatch.setenv("RAG_LLM", "extractive")
    monkeypatch.setenv("RAG_EMBEDDING_MODEL", default_settings.embedding_model)

    def invoke(*args):
        code = main([*args, "--index", str(default_settings.index), "--corpus", str(default_settings.corpus)])
        out, err = capsys.readouterr()
        return code, out, err
    return invoke


def test_reports_lists_the_five_seeds_with_metadata_from_their_text(run):
    code, out, _ = run("reports", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert code == 0 and len(rows) == 5
    assert [(r["authority"], r["report_type"], r["year"]) for r in rows.values()] == [
        ("Hillingdon", "ofsted_sif", 2013), ("Hillingdon", "council_overview", 2017),
        ("Hammersmith and Fulham", "ofsted_slac", 2011), ("Wandsworth", "ofsted_sif", 2015),
        ("Windsor and Maidenhead", "ofsted_sif", 2015)]
    assert rows["wandsworth-2015"]["confidence"] != "high" and rows["wandsworth-2015"]["notes"]


def test_judgements_table_fits_120_columns_and_its_ids_work_with_show(run):
    code, out, _ = run("judgements")
    assert code == 0 and "Hillingdon 2013" in out and "Wandsworth 2015" in out
    assert max(len(line) for line in out.splitlines()) <= 120
    ids = re.findall(r"\b[a-z-]+-\d{4}:[0-9a-f]{8}\b", out)
    assert len(ids) >= 20
    code, shown, _ = run("show", ids[0])
    assert code == 0 and shown.startswith(ids[0])
    code, shown, _ = run("show", ids[0].split(":")[1])           # the short id, as narrow tables print it
    assert code == 0 and shown.startswith(ids[0])
    code, out, _ = run("judgements", "--json", "--authority", "RBWM")
    rows = json.loads(out)
    assert {r["authority"] for r in rows} == {"Windsor and Maidenhead"} and len(rows) == 7
    assert all(r["paragraph_id"].startswith("windsor-and-maidenhead-2015:") and r["text"] for r in rows)


def test_show_prints_a_paragraph_with_its_neighbours(run):
    _, out, _ = run("search", "Intensive Team Family Key Working Service Hillingdon", "--json", "-k", "1")
    pid = json.loads(out)["hits"][0]["id"]
    code, out, _ = run("show", pid, "--context", "1", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["id"] == pid and len(shown["context"]) == 3 and shown["original"]


def test_search_json_uses_the_shared_field_names(run):
    code, out, _ = run("search", "children in care council Wandsworth", "--json", "-k", "3")
    hit = json.loads(out)["hits"][0]
    assert code == 0 and {"authority", "report", "title", "date", "section", "paragraph", "page", "id", "text",
                          "score"} <= set(hit)
    assert hit["authority"] == "Wandsworth"


def test_ask_json_carries_citations_with_quotes(run):
    code, out, _ = run("ask", "What grade did Wandsworth receive for adoption performance?", "--json")
    answer = json.loads(out)
    assert code == 0 and not answer["abstained"]
    citation = answer["citations"][0]
    assert {"n", "id", "authority", "report", "title", "date", "section", "paragraph", "page", "text",
            "quote"} <= set(citation)
    assert citation["quote"] in citation["text"]


def test_batch_writes_one_line_per_question_and_a_csv(run, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "a", "question": "What is CLICK in Wandsworth?"}) + "\n" +
                         json.dumps({"id": "b", "question": "How did Kensington and Chelsea do?"}) + "\n")
    code, _, _ = run("batch", str(questions), "--out", str(tmp_path / "a.jsonl"), "--csv", str(tmp_path / "a.csv"))
    rows = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert code == 0 and [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["hits"] and rows[0]["citations"] and rows[1]["abstained"]
    assert (tmp_path / "a.csv").read_text().startswith("id,question,answer,abstained,references")


def test_errors_are_messages_with_exit_codes_not_tracebacks(run, tmp_path, capsys):
    code, _, err = run("show", "no-such-report:00000000")
    assert code == 6 and "No paragraph" in err
    code = main(["search", "anything", "--index", str(tmp_path / "empty")])
    assert code == 3 and "rag ingest" in capsys.readouterr().err
    code, _, err = run("search", "x", "--authority", "Narnia")
    assert code == 6 and "Narnia" in err


def test_python_dash_m_rag_is_the_same_command():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "rag", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "ingest" in done.stdout and "serve" in done.stdout


def test_eval_scores_a_teams_own_gold_questions(run, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(row) for row in [
        {"id": "g1", "type": "judgement", "question": "What grade did Wandsworth receive for adoption performance?",
         "answer": "Requires improvement.", "keywords": ["requires improvement"],
         "evidence": [{"file": "003_f87a246b47a8ad74.txt",
                       "quote": "The graded judgement for adoption performance is that it requires improvement."}]},
        {"id": "g2", "type": "unanswerable", "question": "What did Ofsted say about Kensington and Chelsea?",
         "answer": "not in the corpus", "keywords": [], "evidence": []},
    ]) + "\n")
    code, out, _ = run("eval", str(gold), "--json", str(tmp_path / "scores.json"))
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert code == 0 and "judgement" in out and "unanswerable" in out
    assert scores["overall"]["recall@5"] == 1.0 and scores["overall"]["keywords"] == 1.0
    assert scores["overall"]["abstain_ok"] == 1.0 and scores["latency"]
