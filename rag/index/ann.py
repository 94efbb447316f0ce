"""Dense nearest-neighbour search with FAISS: which index for which size, building it, and searching it
(optionally restricted to some rows). bench/ann.py measures the recall and latency of these choices."""
from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np

EXACT_LIMIT = 100_000         # up to this many vectors: exact IndexFlatIP (~10 ms a query); above: IVF


@dataclass(frozen=True)
class FaissPlan:
    type: str            # "IndexFlatIP" (exact) or "IndexIVFFlat" (approximate)
    nlist: int = 0       # IVF: number of clusters
    nprobe: int = 0      # IVF: clusters scanned per query
    train_size: int = 0  # IVF: vectors k-means is trained on


def plan_faiss_index(count: int) -> FaissPlan:
    """Exact search while it is cheap; IVF-Flat above EXACT_LIMIT.

    Tuned with bench/ann.py on 1M clustered 384-d vectors, 2 cores: 2048 lists, 64 probed -> recall@10
    0.99 at ~2 ms a query, built in ~40 s; 4096 lists gave the same recall per scanned share but took
    2.7x longer to build.
    """
    if count <= EXACT_LIMIT:
        return FaissPlan("IndexFlatIP")
    nlist = 2 ** round(math.log2(2 * math.sqrt(count)))   # ~2*sqrt(n): 1M vectors -> 2048 lists
    return FaissPlan("IndexIVFFlat", nlist=nlist, nprobe=max(16, nlist // 32),   # scan ~3% of the vectors
                     train_size=min(count, 40 * nlist))


def new_faiss_index(plan: FaissPlan, dimension: int) -> faiss.Index:
    if plan.type == "IndexFlatIP":
        return faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, plan.nlist, faiss.METRIC_INNER_PRODUCT)
    index.nprobe = plan.nprobe
    return index


def train_faiss_index(index: faiss.Index, plan: FaissPlan, sample: np.ndarray) -> None:
    if plan.type != "IndexFlatIP":
        index.train(np.ascontiguousarray(sample, dtype=np.float32))


def build_faiss_index(vectors: np.ndarray, chunk: int = 65_536) -> tuple[faiss.Index, FaissPlan]:
    plan = plan_faiss_index(len(vectors))
    index = new_faiss_index(plan, vectors.shape[1])
    if plan.train_size:
        rows = np.sort(np.random.default_rng(0).choice(len(vectors), plan.train_size, replace=False))
        train_faiss_index(index, plan, vectors[rows])
    for start in range(0, len(vectors), chunk):   # chunks: a memory-mapped input is never copied whole
        index.add(np.ascontiguousarray(vectors[start:start + chunk], dtype=np.float32))
    return index, plan


def subset_nprobe(plan: FaissPlan, fraction: float) -> int:
    """Lists to probe when only `fraction` of the rows may match: a subset's nearest rows lie farther out,
    so probe more (about 3x at 5% of the rows; bench/ann.py measures the recall)."""
    scale = min(8, max(1, round(math.sqrt(0.5 / max(fraction, 1e-9)))))
    return min(plan.nlist, plan.nprobe * scale)


def ann_search(dense: faiss.Index, plan: FaissPlan, query: np.ndarray, k: int,
               rows: np.ndarray | None = None) -> list[tuple[int, float]]:
    """FAISS search for one query; `rows` (sorted, unique) restricts it through an ID selector, so the
    restriction happens inside the scan, before the top k. Parameters are per call: the shared index
    object is never mutated, so concurrent searches are safe."""
    if plan.type == "IndexFlatIP" and rows is None:
        scores, ids = dense.search(query[None, :], min(k, dense.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
    k = min(k, dense.ntotal if rows is None else len(rows))
    selector = None
    if rows is not None:   # a bitmap over all rows: ~0.1 ms to build for 1M rows, O(1) lookups
        mask = np.zeros(dense.ntotal, dtype=bool)
        mask[rows] = True
        selector = faiss.IDSelectorBitmap(np.packbits(mask, bitorder="little"))
    nprobe = plan.nprobe if rows is None else subset_nprobe(plan, len(rows) / max(dense.ntotal, 1))
    while True:
        params = faiss.SearchParametersIVF(nprobe=nprobe) if plan.type != "IndexFlatIP" else faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        scores, ids = dense.search(query[None, :], k, params=params)
        found = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]
        # A selective filter can leave the probed lists short of k rows: widen the probe until it is not.
        if len(found) >= k or plan.type == "IndexFlatIP" or nprobe >= plan.nlist:
            return found
        nprobe = min(plan.nlist, nprobe * 4)
