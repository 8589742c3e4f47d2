"""Exchanges: panel moves that keep every quota count exactly as it is.

Two members of a panel, of types ``a`` and ``b``, trade the values of some of their features: ``a``
leaves and ``a'`` (``a`` with ``b``'s values on those features) joins, ``b`` leaves and ``b'``
joins. Every feature value keeps its count, so the new panel meets the quotas exactly when the old
one did, whatever the quotas are. Single swaps (one member out, another in) cannot do this: when
most quota rows are pinned (as on the face of the quota polytope where a LEXIMIN point lies, see
``common.face_of``) hardly any swap is allowed, while exchanges always are, provided the two new
feature combinations are types present in the pool with room left.

Types are looked up by their feature values through a dense table, so all exchanges of a panel are
scored with a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sortition.algorithms.common import TypeModel

MAX_TABLE = 5_000_000  # largest number of feature-value combinations indexed densely
MAX_FEATURES = 12  # exchanges over subsets of at most this many features (2^(f-1) - 1 subsets)
MAX_PAIRS = 4_000  # most pairs of panel types scored at once (the heaviest-first out types)


@dataclass
class ExchangeIndex:
    codes: np.ndarray  # [t]: code of type t's feature values
    digits: np.ndarray  # [t, f]: digit of type t for feature f (rank of its value)
    place: np.ndarray  # [f]: place value of feature f in a code
    table: np.ndarray  # code -> type (-1: no such type)
    subsets: np.ndarray  # [s, f] 0.0/1.0: features traded by exchange s (never feature 0: a trade and its complement are the same)


def exchange_index(model: TypeModel) -> ExchangeIndex | None:
    """The lookup for ``model``, or None when exchanges do not apply.

    They do not apply with households (several types may share a feature vector there), with a
    single feature (nothing to trade) or when there are too many features or combinations.
    """
    if model.household_matrix is not None and model.household_matrix.shape[0]:
        return None
    # digit of a type for a feature: the rank of its value (quota row) among that feature's values
    digits = np.stack(
        [np.unique(col, return_inverse=True)[1].ravel() for col in model.value_rows.T], axis=1
    ).astype(np.int64)
    f = digits.shape[1]
    if f < 2 or f > MAX_FEATURES:
        return None
    radix = digits.max(axis=0) + 1
    if float(np.prod(radix.astype(float))) > MAX_TABLE:
        return None
    place = np.concatenate([[1], np.cumprod(radix[:-1])]).astype(np.int64)
    codes = digits @ place
    if len(np.unique(codes)) != len(codes):
        return None
    table = np.full(int(np.prod(radix)), -1, dtype=np.int64)
    table[codes] = np.arange(len(codes))
    masks = np.arange(1, 2 ** (f - 1), dtype=np.int64)
    subsets = ((masks[:, None] >> np.arange(f - 1)[None, :]) & 1).astype(np.int64)
    subsets = np.hstack([np.zeros((len(masks), 1), dtype=np.int64), subsets]).astype(float)
    return ExchangeIndex(codes, digits, place, table, subsets)


def _targets(index: ExchangeIndex, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For pairs of types ``(a, b)``: the types ``a'`` and ``b'`` of every trade [pair, subset] (-1: none)."""
    diff = ((index.digits[b] - index.digits[a]) * index.place).astype(float)  # [p, f]
    delta = np.rint(diff @ index.subsets.T).astype(np.int64)  # [p, s]: code change of a's side
    return index.table[index.codes[a][:, None] + delta], index.table[index.codes[b][:, None] - delta]


def _has_room(model: TypeModel, c: np.ndarray, moves: np.ndarray) -> np.ndarray:
    """Which moves find a free member for each newcomer (a joiner that is also a leaver frees its seat)."""
    free = model.counts - c
    room_a = free[moves[:, 2]] + (moves[:, 2] == moves[:, 0]) + (moves[:, 2] == moves[:, 1])
    room_b = free[moves[:, 3]] + (moves[:, 3] == moves[:, 0]) + (moves[:, 3] == moves[:, 1])
    ok: np.ndarray = (room_a >= 1) & (room_b >= 1)
    return ok


def exchange_moves(
    index: ExchangeIndex, model: TypeModel, weights: np.ndarray, c: np.ndarray, min_gain: float, limit: int
) -> np.ndarray:
    """Up to ``limit`` exchanges out of panel ``c`` gaining more than ``min_gain``, best first.

    Returns moves as rows ``(a, b, a', b')``: one member of type a and one of type b leave, one of
    type a' and one of type b' join.
    """
    none = np.zeros((0, 4), dtype=np.int64)
    present = np.flatnonzero(c > 0)
    if len(present) < 2 or limit <= 0:
        return none
    w = weights[present]
    top = float(np.max(weights))
    i, j = np.triu_indices(len(present), 1)
    # a pair can gain at most 2 * (heaviest weight) - its own weight
    promising = 2.0 * top - (w[i] + w[j]) > min_gain
    i, j = i[promising], j[promising]
    if len(i) > MAX_PAIRS:  # keep the pairs with the lightest members: they have the most to gain
        keep = np.argpartition(w[i] + w[j], MAX_PAIRS)[:MAX_PAIRS]
        i, j = i[keep], j[keep]
    if not len(i):
        return none
    a, b = present[i], present[j]
    a_new, b_new = _targets(index, a, b)
    # weights with -inf appended: a combination that is no type (-1) can never gain
    wext = np.append(weights, -np.inf)
    gain = wext[a_new] + wext[b_new] - (w[i] + w[j])[:, None]
    p, s = np.nonzero(gain > min_gain)
    if not len(p):
        return none
    moves = np.stack([a[p], b[p], a_new[p, s], b_new[p, s]], axis=1)
    g = gain[p, s]
    ok = _has_room(model, c, moves)
    moves, g = moves[ok], g[ok]
    if len(g) > limit:
        part = np.argpartition(-g, limit)[:limit]
        moves, g = moves[part], g[part]
    best_first: np.ndarray = moves[np.argsort(-g, kind="stable")]
    return best_first


def apply_move(c: np.ndarray, move: np.ndarray) -> np.ndarray:
    out = c.copy()
    out[move[0]] -= 1
    out[move[1]] -= 1
    out[move[2]] += 1
    out[move[3]] += 1
    return out


def all_exchanges(index: ExchangeIndex, model: TypeModel, c: np.ndarray) -> np.ndarray:
    """Every exchange out of panel ``c`` that leads to another panel, as rows ``(a, b, a', b')``.

    Which exchanges exist depends on the panel only, not on the weights, so a caller that scores
    the same panel under many weight vectors (``minnorm.reach``) lists them once with this and
    scores them with :func:`best_exchanges`, a few gathers each time.
    """
    present = np.flatnonzero(c > 0)
    if len(present) < 2:
        return np.zeros((0, 4), dtype=np.int32)
    i, j = np.triu_indices(len(present), 1)
    a, b = present[i], present[j]
    a_new, b_new = _targets(index, a, b)
    # a trade of every differing feature only swaps the two members back (a' = b): no move at all
    p, s = np.nonzero((a_new >= 0) & (b_new >= 0) & (a_new != b[:, None]) & (a_new != a[:, None]))
    moves = np.stack([a[p], b[p], a_new[p, s], b_new[p, s]], axis=1)
    out: np.ndarray = moves[_has_room(model, c, moves)].astype(np.int32)
    return out


def best_exchanges(moves: np.ndarray, weights: np.ndarray, min_gain: float, limit: int) -> np.ndarray:
    """Up to ``limit`` of ``moves`` (from :func:`all_exchanges`) gaining more than ``min_gain``, best first."""
    gain = weights[moves[:, 2]] + weights[moves[:, 3]] - weights[moves[:, 0]] - weights[moves[:, 1]]
    ok = np.flatnonzero(gain > min_gain)
    if len(ok) > limit:
        ok = ok[np.argpartition(-gain[ok], limit)[:limit]]
    best_first: np.ndarray = moves[ok[np.argsort(-gain[ok], kind="stable")]]
    return best_first
