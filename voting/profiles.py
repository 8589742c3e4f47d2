"""Weighted profiles: identical ballots aggregated into one row with a weight.

Every profile holds ``candidates`` (names, in a fixed order), one numpy row per *distinct*
ballot and an ``int64`` ``weights`` vector (how many voters cast that ballot).  All rules
count on these arrays, so the cost of a tally grows with the number of distinct ballots,
not the number of voters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def _aggregate(blocks: list[NDArray[Any]], weights: IntArray) -> tuple[list[NDArray[Any]], IntArray]:
    """Merge identical rows, summing their weights; rows come back in a canonical (sorted) order.

    A row is the concatenation of the blocks' rows (e.g. ranks and listed flags).  When every row
    fits one int64 as mixed-radix digits (column minus its minimum, radix = its span), rows are
    merged on that key (an integer sort; lexicographic order); otherwise on the raw bytes of the
    concatenated row (``np.unique`` over a void view, byte order).
    """
    if blocks[0].shape[0] == 0:
        return blocks, weights
    n = blocks[0].shape[0]
    lows: list[IntArray] = []
    spans_list: list[IntArray] = []
    for blk in blocks:
        if blk.dtype == bool:  # digits 0/1; a constant column (all or none: complete ballots) needs no digit
            ones = np.count_nonzero(blk, axis=0).astype(np.int64)
            lows.append((ones == n).astype(np.int64))
            spans_list.append(np.where((ones == 0) | (ones == n), 1, 2).astype(np.int64))
        else:
            lows.append(blk.min(axis=0).astype(np.int64))
            spans_list.append(blk.max(axis=0).astype(np.int64) - lows[-1] + 1)
    spans = np.concatenate(spans_list)
    if math.prod(spans.tolist()) < 2**62:
        # key = sum_j (row_j - low_j) * prod(spans after j).  int64 arithmetic wraps, and the true
        # key fits, so summing first and subtracting the constant sum_j low_j * place_j is exact.
        place = np.ones(spans.size, dtype=np.int64)
        place[:-1] = np.cumprod(spans[::-1])[::-1][1:]
        keys = np.zeros(blocks[0].shape[0], dtype=np.int64)
        offset, at = 0, 0
        for blk, lo in zip(blocks, lows, strict=True):
            width = blk.shape[1]
            pl = place[at : at + width]
            if blk.dtype == np.int64:
                keys += blk @ pl
                offset += int(lo @ pl)
            else:  # narrow dtypes column by column: no full int64 copy of the block
                for j in range(width):
                    if spans[at + j] > 1:  # a constant column adds the same to every key: skipped
                        keys += blk[:, j] * pl[j]
                        offset += int(lo[j]) * int(pl[j])
            at += width
        keys -= np.int64(offset % 2**64 - (2**64 if offset % 2**64 >= 2**63 else 0))
        order = np.argsort(keys)
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))
        summed = np.add.reduceat(weights[order].astype(np.int64), starts)
        pick = order[starts]
        return [np.take(blk, pick, axis=0) for blk in blocks], summed
    rows = np.ascontiguousarray(np.concatenate([blk.astype(np.int64) for blk in blocks], axis=1))
    void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
    _, first, inverse = np.unique(void.ravel(), return_index=True, return_inverse=True)
    summed_f = np.bincount(inverse.ravel(), weights=weights, minlength=first.size)
    return [blk[first] for blk in blocks], np.rint(summed_f).astype(np.int64)


@dataclass(frozen=True)
class RankedProfile:
    """Ranked ballots (weak orders, possibly truncated).

    ``ranks[u, c]`` is the tier of candidate ``c`` on distinct ballot ``u`` (0 = top tier).
    Candidates a ballot does not list share the tier just below its last listed tier, and
    ``listed[u, c]`` is False for them: pairwise rules treat them as tied below every listed
    candidate; IRV and plurality never count a ballot for an unlisted candidate.
    """

    candidates: tuple[str, ...]
    ranks: NDArray[np.int16]
    listed: BoolArray
    weights: IntArray
    kind: str = field(default="ranked", init=False)

    @classmethod
    def build(
        cls, candidates: tuple[str, ...], ranks: NDArray[np.int16], listed: BoolArray, weights: IntArray
    ) -> RankedProfile:
        (r, lst), w = _aggregate([ranks.astype(np.int16, copy=False), listed.astype(bool, copy=False)],
                                 weights.astype(np.int64, copy=False))
        return cls(candidates, r, lst, w)

    @property
    def num_voters(self) -> int:
        return int(self.weights.sum())

    @cached_property
    def strict_order(self) -> tuple[IntArray, BoolArray] | None:
        """If no ballot ties listed candidates: (candidates of each ballot best first, listed mask
        in that order) — lets IRV and plurality find a ballot's top remaining candidate in one pass.
        None when some ballot has a tie among its listed candidates."""
        n_listed = self.listed.sum(axis=1)
        n_tiers = np.where(self.listed, self.ranks, -1).max(axis=1) + 1
        if not np.array_equal(n_listed, n_tiers):
            return None
        order = np.argsort(self.ranks, axis=1, kind="stable").astype(np.int64)
        return order, np.take_along_axis(self.listed, order, axis=1)

    def support_matrix(self) -> IntArray:
        """``S[a, b]`` = number of voters ranking ``a`` strictly above ``b`` (unlisted tie at the bottom)."""
        m = len(self.candidates)
        out = np.zeros((m, m), dtype=np.int64)
        w = self.weights
        for a in range(m):
            above = self.ranks[:, a, None] < self.ranks
            out[a] = w @ above.astype(np.int64)
        return out

    def margin_matrix(self) -> IntArray:
        s = self.support_matrix()
        return s - s.T


@dataclass(frozen=True)
class ApprovalProfile:
    """Approval ballots: ``approved[u, c]`` is True when distinct ballot ``u`` approves ``c``."""

    candidates: tuple[str, ...]
    approved: BoolArray
    weights: IntArray
    kind: str = field(default="approval", init=False)

    @classmethod
    def build(cls, candidates: tuple[str, ...], approved: BoolArray, weights: IntArray) -> ApprovalProfile:
        (merged,), w = _aggregate([approved.astype(bool, copy=False)], weights.astype(np.int64, copy=False))
        return cls(candidates, merged, w)

    @property
    def num_voters(self) -> int:
        return int(self.weights.sum())


@dataclass(frozen=True)
class ScoreProfile:
    """Score ballots on the integer range ``[low, high]``.

    A candidate a ballot does not score counts as ``low`` (``scored[u, c]`` is False for it).
    """

    candidates: tuple[str, ...]
    scores: IntArray
    scored: BoolArray
    weights: IntArray
    low: int
    high: int
    kind: str = field(default="score", init=False)

    @classmethod
    def build(
        cls,
        candidates: tuple[str, ...],
        scores: IntArray,
        scored: BoolArray,
        weights: IntArray,
        low: int,
        high: int,
    ) -> ScoreProfile:
        (s, sd), w = _aggregate([scores, scored.astype(bool, copy=False)], weights.astype(np.int64, copy=False))
        return cls(candidates, s.astype(np.int64, copy=False), sd, w, low, high)

    @property
    def num_voters(self) -> int:
        return int(self.weights.sum())


@dataclass(frozen=True)
class GradeProfile:
    """Majority-judgment grades.  ``scale`` lists grade names from worst to best; ``grades[u, c]``
    is an index into it.  An ungraded candidate gets the worst grade (index 0)."""

    candidates: tuple[str, ...]
    grades: IntArray
    graded: BoolArray
    weights: IntArray
    scale: tuple[str, ...]
    kind: str = field(default="grades", init=False)

    @classmethod
    def build(
        cls,
        candidates: tuple[str, ...],
        grades: IntArray,
        graded: BoolArray,
        weights: IntArray,
        scale: tuple[str, ...],
    ) -> GradeProfile:
        (g, gd), w = _aggregate([grades.astype(np.int64, copy=False), graded.astype(bool, copy=False)],
                                weights.astype(np.int64, copy=False))
        return cls(candidates, g, gd, w, scale)

    @property
    def num_voters(self) -> int:
        return int(self.weights.sum())


CHOICES: tuple[str, ...] = ("yes", "no", "abstain")


@dataclass(frozen=True)
class ChoiceProfile:
    """Yes / no / abstain ballots, reduced to three counts."""

    counts: dict[str, int]
    candidates: tuple[str, ...] = CHOICES
    kind: str = field(default="choice", init=False)

    @property
    def num_voters(self) -> int:
        return sum(self.counts.values())


Profile = RankedProfile | ApprovalProfile | ScoreProfile | GradeProfile | ChoiceProfile
