"""FAISS planning and search: exact below EXACT_LIMIT, IVF above; IVF finds the exact neighbours when every
list is probed; a row subset is searched inside the scan and widened until it yields k rows."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rag.index import ann
from rag.index.ann import FaissPlan, ann_search, build_faiss_index, plan_faiss_index, subset_nprobe

COUNT, DIMENSION = 3000, 32


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    data = np.random.default_rng(7).standard_normal((COUNT, DIMENSION)).astype(np.float32)
    return data / np.linalg.norm(data, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def queries(vectors) -> np.ndarray:
    rng = np.random.default_rng(11)
    # Near some stored vectors (like real queries) and a few unrelated directions.
    near = vectors[rng.choice(COUNT, 8, replace=False)] + 0.3 * rng.standard_normal((8, DIMENSION)).astype(np.float32)
    far = rng.standard_normal((4, DIMENSION)).astype(np.float32)
    both = np.vstack([near, far])
    return both / np.linalg.norm(both, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def ivf(vectors):
    """An IVF index over the small set (EXACT_LIMIT lowered for the build only)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ann, "EXACT_LIMIT", 500)
        index, plan = build_faiss_index(vectors)
    assert plan.type == "IndexIVFFlat" and index.ntotal == COUNT and index.is_trained
    return index, plan


def exact(vectors: np.ndarray, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> list[int]:
    scores = vectors @ query
    candidates = np.arange(len(vectors)) if rows is None else rows
    return [int(i) for i in candidates[np.argsort(-scores[candidates], kind="stable")[:k]]]


# ---- planning ----------------------------------------------------------------------------------------------

def test_exact_search_up_to_the_limit():
    assert plan_faiss_index(1) == FaissPlan("IndexFlatIP")
    assert plan_faiss_index(ann.EXACT_LIMIT) == FaissPlan("IndexFlatIP")
    assert plan_faiss_index(ann.EXACT_LIMIT + 1).type == "IndexIVFFlat"


def test_ivf_above_the_limit(monkeypatch):
    monkeypatch.setattr(ann, "EXACT_LIMIT", 100)
    assert plan_faiss_index(100).type == "IndexFlatIP"
    plan = plan_faiss_index(1000)
    assert plan == FaissPlan("IndexIVFFlat", nlist=64, nprobe=16, train_size=1000)   # ~2*sqrt(n) lists
    assert plan_faiss_index(1_000_000) == FaissPlan("IndexIVFFlat", nlist=2048, nprobe=64, train_size=81_920)


def test_subset_nprobe_grows_as_the_fraction_shrinks():
    plan = FaissPlan("IndexIVFFlat", nlist=2048, nprobe=64, train_size=81_920)
    probes = [subset_nprobe(plan, f) for f in (1.0, 0.5, 0.2, 0.05, 0.01, 0.0001, 0.0)]
    assert probes == sorted(probes) and probes[0] == 64 and probes[-1] == 64 * 8
    assert subset_nprobe(plan, 0.05) == 3 * 64                  # about 3x at 5% of the rows
    small = FaissPlan("IndexIVFFlat", nlist=100, nprobe=40)
    assert subset_nprobe(small, 0.001) == 100                   # never more lists than there are


# ---- searching ---------------------------------------------------------------------------------------------

def test_exact_index_returns_the_true_nearest_neighbours(vectors, queries):
    index, plan = build_faiss_index(vectors)
    assert plan.type == "IndexFlatIP"
    for q in queries:
        found = ann_search(index, plan, q, 10)
        assert [i for i, _ in found] == exact(vectors, q, 10)
        assert [s for _, s in found] == pytest.approx(sorted((float(vectors[i] @ q) for i, _ in found), reverse=True),
                                                      abs=1e-5)


def test_ivf_probing_every_list_is_exact(ivf, vectors, queries):
    index, plan = ivf
    full = replace(plan, nprobe=plan.nlist)
    for q in queries:
        assert [i for i, _ in ann_search(index, full, q, 10)] == exact(vectors, q, 10)


def test_ivf_with_its_own_nprobe_finds_most_neighbours(ivf, vectors, queries):
    index, plan = ivf
    assert plan.nprobe < plan.nlist
    recall = np.mean([len({i for i, _ in ann_search(index, plan, q, 10)} & set(exact(vectors, q, 10))) / 10
                      for q in queries])
    assert recall >= 0.6


@pytest.mark.parametrize("exact_index", [True, False])
def test_a_subset_search_stays_inside_its_rows(ivf, vectors, queries, exact_index):
    index, plan = build_faiss_index(vectors) if exact_index else ivf
    if not exact_index:
        plan = replace(plan, nprobe=plan.nlist)     # every list: the result must equal the exact subset top k
    rows = np.sort(np.random.default_rng(3).choice(COUNT, 150, replace=False))
    allowed = set(rows.tolist())
    for q in queries:
        found = [i for i, _ in ann_search(index, plan, q, 10, rows=rows)]
        assert set(found) <= allowed
        assert found == exact(vectors, q, 10, rows)


def test_a_tiny_subset_widens_the_probe_until_all_its_rows_are_found(ivf, vectors, queries):
    import faiss
    index, plan = ivf
    plan = replace(plan, nprobe=1)          # few lists probed first: a handful of rows is mostly elsewhere
    rows = np.array([5, 900, 1800, 2500, 2999])
    mask = np.zeros(COUNT, dtype=bool)
    mask[rows] = True
    first = faiss.SearchParametersIVF(nprobe=subset_nprobe(plan, len(rows) / COUNT))
    first.sel = faiss.IDSelectorBitmap(np.packbits(mask, bitorder="little"))
    short = 0
    for q in queries:
        short += int((index.search(q[None, :], 5, params=first)[1] >= 0).sum() < 5)
        found = ann_search(index, plan, q, 10, rows=rows)
        assert sorted(i for i, _ in found) == rows.tolist()      # k is cut to the rows there are
        assert [i for i, _ in found] == exact(vectors, q, 5, rows)
    assert short, "the first probe should have come up short for some query, or nothing was widened"


def test_k_larger_than_the_index(vectors):
    index, plan = build_faiss_index(vectors[:7])
    assert sorted(i for i, _ in ann_search(index, plan, vectors[0], 50)) == list(range(7))
