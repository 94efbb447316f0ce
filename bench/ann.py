"""ANN benchmark: the approximate index rag.store builds for 1,000,000 384-d vectors.

    .venv/bin/python bench/ann.py [--count 1000000] [--queries 1000] [--nprobe N]

Synthetic, clustered data: a mixture of Gaussian centres (themselves grouped around a few "topics",
with uneven cluster sizes and spreads), normalised like sentence embeddings. Vectors are generated
block by block from per-block seeds, so any row can be regenerated and memory holds only the index
(plus one block and the k-means sample while training). The index goes through the same code as
`rag ingest`: store.build_faiss_index -> plan_faiss_index / new_faiss_index / train_faiss_index.

Prints build time, peak RSS, single-query search latency p50/p95 at k=10 (one query at a time, as a
warm server answers), recall@10 against exact inner-product search, and the same for searches
restricted to 5% and 1% of the rows (the ID-selector path Index.dense_search takes for large subsets).
All searches go through store.ann_search, the function Index.dense_search uses.
"""
from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from rag.index import reader as store  # noqa: E402

BLOCK = 32_768   # rows per generated block (also the add chunk handed to store.build_faiss_index)
SPREAD = (1.5, 2.5)   # noise norm per vector relative to its unit centre: clusters overlap like real topics


class SyntheticVectors:
    """A read-only, array-like view of `count` clustered unit vectors, generated on demand per block."""

    def __init__(self, count: int, dimension: int, centres: int, topics: int, seed: int,
                 spread: tuple[float, float] = SPREAD) -> None:
        rng = np.random.default_rng(seed)
        self.count, self.dimension, self.seed = count, dimension, seed
        self.shape = (count, dimension)
        topic_axes = _unit(rng.standard_normal((topics, dimension)))
        centre_topics = rng.integers(topics, size=centres)
        self.centres = _unit(topic_axes[centre_topics] + _unit(rng.standard_normal((centres, dimension))))
        self.centres = self.centres.astype(np.float32)
        # Uneven clusters: Zipf-like sizes and per-cluster spread.
        weights = 1.0 / np.arange(1, centres + 1) ** 0.5
        self.weights = rng.permutation(weights / weights.sum())
        self.spread = rng.uniform(*spread, size=centres) / np.sqrt(dimension)

    def __len__(self) -> int:
        return self.count

    def sample(self, count: int, seed: int) -> np.ndarray:
        """Fresh points from the same mixture (queries are new texts, not copies of indexed ones)."""
        return self._draw(np.random.default_rng((self.seed, seed, 1)), count)

    def block(self, number: int) -> np.ndarray:
        rows = min(BLOCK, self.count - number * BLOCK)
        return self._draw(np.random.default_rng((self.seed, number)), rows)

    def _draw(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        which = rng.choice(len(self.centres), size=rows, p=self.weights)
        points = np.take(self.centres, which, axis=0)   # in place from here: one block-sized temporary
        noise = rng.standard_normal((rows, self.dimension), dtype=np.float32)
        noise *= self.spread[which, None].astype(np.float32)
        points += noise
        return _unit(points)

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        rows = np.arange(*key.indices(self.count)) if isinstance(key, slice) else np.asarray(key)
        out = np.empty((len(rows), self.dimension), dtype=np.float32)
        blocks = rows // BLOCK
        for number in np.unique(blocks):
            mine = blocks == number
            out[mine] = self.block(int(number))[rows[mine] - number * BLOCK]
        return out


def _unit(x: np.ndarray) -> np.ndarray:
    x /= np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]   # in place, no squared copy
    return x


def exact_top_k(data: SyntheticVectors, queries: np.ndarray, k: int,
                subsets: list[np.ndarray | None]) -> list[np.ndarray]:
    """Brute-force top-k rows by inner product for each subset (None = all rows), in one pass over the
    blocks; memory is one block and its scores."""
    best = [(np.full((len(queries), k), -np.inf, np.float32), np.full((len(queries), k), -1, np.int64))
            for _ in subsets]
    for number in range((data.count + BLOCK - 1) // BLOCK):
        block = data.block(number)
        block_rows = np.arange(number * BLOCK, number * BLOCK + len(block))
        all_scores = queries @ block.T
        for i, subset in enumerate(subsets):
            keep = np.ones(len(block_rows), bool) if subset is None else np.isin(block_rows, subset)
            scores = np.concatenate([best[i][0], all_scores[:, keep]], axis=1)
            rows = np.concatenate([best[i][1], np.broadcast_to(block_rows[keep], (len(queries), int(keep.sum())))], 1)
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            best[i] = (np.take_along_axis(scores, top, axis=1), np.take_along_axis(rows, top, axis=1))
    return [rows for _, rows in best]


def timed_queries(index: faiss.Index, plan: store.FaissPlan, queries: np.ndarray, k: int,
                  rows: np.ndarray | None = None) -> tuple[float, float, list[list[int]]]:
    """p50 and p95 latency (ms) of store.ann_search, one query at a time as a server answers."""
    latencies, found = [], []
    for query in queries:
        started = time.perf_counter()
        hits = store.ann_search(index, plan, query, k, rows)
        latencies.append(time.perf_counter() - started)
        found.append([row for row, _ in hits])
    ms = np.array(latencies) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95)), found


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--centres", type=int, default=3000)
    parser.add_argument("--topics", type=int, default=50)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument("--nprobe", type=int, nargs="*", help="also measure these nprobe values")
    parser.add_argument("--spread", type=float, nargs=2, default=SPREAD, help="noise norm range per cluster")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    k = 10

    data = SyntheticVectors(args.count, args.dimension, args.centres, args.topics, args.seed, tuple(args.spread))
    print(f"vectors: {args.count:,} x {args.dimension} float32 ({args.count * args.dimension * 4 / 2**30:.2f} GiB), "
          f"{args.centres} centres in {args.topics} topics, spread {args.spread}; faiss {faiss.__version__}, "
          f"{faiss.omp_get_max_threads()} threads", flush=True)
    started = time.perf_counter()
    index, plan = store.build_faiss_index(data, chunk=BLOCK)
    build = time.perf_counter() - started
    print(f"index: {plan}  build {build:.1f} s  peak RSS {peak_rss_mb():,.0f} MB", flush=True)

    queries = data.sample(args.queries, seed=1)
    checked = queries[:args.recall_queries]
    rng = np.random.default_rng(3)
    subsets = {f"{share:.0%} subset": np.sort(rng.choice(args.count, int(args.count * share), replace=False))
               for share in (0.05, 0.01)}
    started = time.perf_counter()
    truth, *truth_subsets = exact_top_k(data, checked, k, [None, *subsets.values()])
    print(f"exact top-{k} for {len(checked)} queries (brute force): {time.perf_counter() - started:.1f} s", flush=True)

    for nprobe in dict.fromkeys([plan.nprobe, *(args.nprobe or [])]):
        trial = dataclasses.replace(plan, nprobe=nprobe)
        label = "store default" if nprobe == plan.nprobe else "trial"
        p50, p95, found = timed_queries(index, trial, queries, k)
        print(f"nprobe {nprobe:4d} ({label}): p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  "
              f"recall@{k} {recall(found[:len(truth)], truth):.3f}", flush=True)
        for (name, rows), subset_truth in zip(subsets.items(), truth_subsets):
            p50, p95, found = timed_queries(index, trial, checked, k, rows)
            print(f"    {name} (nprobe {store.subset_nprobe(trial, len(rows) / args.count)}): p50 {p50:6.2f} ms  "
                  f"p95 {p95:6.2f} ms  recall@{k} {recall(found, subset_truth):.3f}", flush=True)
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
