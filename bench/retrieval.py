"""Speed of the product on this machine: cold and unchanged ingest, warm search latency, answer latency.

    .venv/bin/python bench/retrieval.py [--corpus corpus] [--questions ../shared/eval/dev.jsonl] [--repeat 5]

Cold ingest builds a fresh index in a temporary folder (every paragraph embedded); the unchanged
re-ingest runs again on it (nothing to embed). Search latency is measured in a warm process over the
gold questions (or a built-in list), `--repeat` times each, without a reranker. Answer latency uses the
extractive engine. Nothing here is a test: it prints figures.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.assistant import Assistant  # noqa: E402
from rag.index.builder import ingest  # noqa: E402
from rag.index.embedding import load_embedder  # noqa: E402
from rag.settings import Settings  # noqa: E402

FALLBACK_QUESTIONS = [
    "What grade did Wandsworth receive for adoption performance?",
    "How many children were on child protection plans in Windsor and Maidenhead?",
    "Compare placement stability in Wandsworth and Windsor and Maidenhead.",
    "What is the Axis Project in Hillingdon?",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--questions", type=Path, default=Path("../shared/eval/dev.jsonl"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    questions = FALLBACK_QUESTIONS
    if args.questions.is_file():
        questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        settings = Settings.from_env(corpus=args.corpus, index=index, llm="extractive")
        started = time.perf_counter()
        embedder = load_embedder(settings)
        load_seconds = time.perf_counter() - started
        cold = ingest(args.corpus, index, embedder)
        warm = ingest(args.corpus, index, embedder)
        print(f"embedder load: {load_seconds:.1f} s")
        print(f"cold ingest: {cold.seconds:.1f} s ({cold.stats.paragraphs} paragraphs, {cold.stats.embedded} embedded)")
        print(f"unchanged re-ingest: {warm.seconds:.2f} s ({warm.stats.embedded} embedded, {warm.stats.reused} reused)")

        bot = Assistant(settings, embedder=embedder, engine="extractive")
        bot.search("warm up")
        timings = []
        for _ in range(args.repeat):
            for question in questions:
                t = time.perf_counter()
                bot.search(question)
                timings.append((time.perf_counter() - t) * 1000)
        print(f"search ({len(timings)} queries, warm, no reranker): p50 {percentile(timings, 50):.1f} ms, "
              f"p95 {percentile(timings, 95):.1f} ms")

        answers = []
        for question in questions:
            t = time.perf_counter()
            bot.ask(question)
            answers.append(time.perf_counter() - t)
        print(f"extractive answer ({len(answers)} questions, warm): p50 {statistics.median(answers) * 1000:.0f} ms, "
              f"max {max(answers) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
