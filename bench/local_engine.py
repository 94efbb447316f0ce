"""The local engine on this machine (issue 15): how long `rag serve` takes to be ready with it, and, for ten
single-authority questions over the bundled corpus, the time to the first words and to the whole checked
answer (medians), with the model already loaded as `rag serve` has it.

    .venv/bin/python bench/local_engine.py [--index DIR] [--corpus DIR] [--skip-serve]

Run it on an otherwise idle machine: each figure is a wall-clock time.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.national import serve_ready  # noqa: E402
from rag.assistant import Assistant, EventKind  # noqa: E402
from rag.settings import Settings  # noqa: E402

# Single-authority questions an analyst asks of the bundled reports (none of them is a gold question).
QUESTIONS = (
    "How well does Hillingdon support care leavers into education, employment or training?",
    "What did inspectors find about management oversight in Wandsworth?",
    "How effective is the multi-agency safeguarding hub in Windsor and Maidenhead?",
    "How are children in care in Hammersmith and Fulham helped with their health?",
    "What did Ofsted say about adoption in Hillingdon?",
    "How quickly are strategy discussions held in Wandsworth?",
    "What do inspectors say about social workers' caseloads in Windsor and Maidenhead?",
    "How does Hammersmith and Fulham listen to children in care?",
    "What are the weaknesses in Wandsworth's help for care leavers?",
    "How well are children at risk of sexual exploitation protected in Windsor and Maidenhead?",
)


def answer_times(assistant: Assistant, question: str) -> tuple[float, float, str]:
    """(seconds to the first words, seconds to the checked answer, engine label)."""
    started = time.perf_counter()
    first = None
    for event in assistant.stream(question):
        if event.kind == EventKind.TOKEN and first is None and event.text.strip():
            first = time.perf_counter() - started
        elif event.kind == EventKind.ANSWER:
            total = time.perf_counter() - started
            return (first if first is not None else total), total, event.answer.engine
    raise SystemExit(f"no answer to {question!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="the index to use (default: the settings' index)")
    parser.add_argument("--corpus", type=Path, help="its corpus (default: the settings' corpus)")
    parser.add_argument("--skip-serve", action="store_true", help="do not measure `rag serve` start-up")
    args = parser.parse_args()
    overrides = {"llm": "local"}
    if args.index:
        overrides["index"] = args.index
    if args.corpus:
        overrides["corpus"] = args.corpus
    settings = Settings.from_env(**overrides)
    if not args.skip_serve:
        env = {**os.environ, "RAG_LLM": "local"}
        seconds, rss = serve_ready(env, settings.index, settings.corpus)
        print(f"`rag serve` ready with the local engine: {seconds:.1f} s; serving memory {rss} MB")
    assistant = Assistant(settings)
    started = time.perf_counter()
    assistant.load(warm_engine=True)
    print(f"index and model loaded in-process: {time.perf_counter() - started:.1f} s")
    firsts, totals = [], []
    for question in QUESTIONS:
        first, total, engine = answer_times(assistant, question)
        firsts.append(first)
        totals.append(total)
        print(f"  first words {first:5.1f} s, answer {total:5.1f} s ({engine}): {question}")
    print(f"median of {len(QUESTIONS)}: first words {statistics.median(firsts):.1f} s, "
          f"whole answer {statistics.median(totals):.1f} s (targets 5 s and 15 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
