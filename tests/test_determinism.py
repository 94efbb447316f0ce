"""The same question gets the same answer in every process: scores summed over sets of words do not depend
on the order Python's per-process hash seed gives those sets (near-ties once reordered comparison passages
from one run to the next)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCORE = """
from rag.answer.extractive import best_sentences
from rag.text.words import stem
from tests.helpers import hits_of, make_report, number_passages
report = make_report(texts=["Alpha beta gamma are listed.", "Delta epsilon zeta are listed."])
weights = {stem(w): v for w, v in {"alpha": 0.1, "beta": 0.2, "gamma": 0.3, "delta": 0.3, "epsilon": 0.2,
                                   "zeta": 0.1}.items()}
for sentence, key, score in best_sentences("alpha beta gamma delta epsilon zeta", number_passages(hits_of(report)),
                                           weights=weights):
    print(key, repr(score))
"""


def test_sentence_scores_are_the_same_whatever_the_hash_seed():
    outputs = set()
    for seed in ("0", "1", "2", "3", "5", "8"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", SCORE], env=env, cwd=ROOT, capture_output=True, text=True,
                              check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1, outputs
