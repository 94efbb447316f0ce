"""Fusing rankings, as a pure function (in the manner of Haystack's DocumentJoiner in reciprocal rank
fusion mode): several ranked lists of rows become one score per row, with optional per-list weights and
a bonus for rows a rule wants on top (a paragraph that states the graded judgement a question asks for)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

RRF_K = 60                                  # reciprocal rank fusion constant (Cormack et al. 2009)
# One fused list ranked first in both lists scores 2/(K+1): a boosted row outranks any unboosted one.
TOP_BONUS = 2.0 / (RRF_K + 1)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], weights: Sequence[float] | None = None, *,
                           boosted: Iterable[int] = (), bonus: float = TOP_BONUS,
                           k: int = RRF_K) -> list[tuple[int, float]]:
    """(row, fused score), best first; ties go to the lower row, so results are stable.

    Each row scores sum(weight / (k + rank)) over the lists it is in (rank from 1); every row in
    `boosted` gains `bonus`, whether or not a list holds it."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(rankings)} rankings but {len(weights)} weights")
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, row in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + weight / (k + rank)
    for row in boosted:
        fused[row] = fused.get(row, 0.0) + bonus
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
