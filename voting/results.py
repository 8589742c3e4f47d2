"""The typed result every rule returns, and helpers to build rankings and apply a seeded tie-break."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TieBreak:
    """A recorded, reproducible tie-break: ``chosen`` was drawn from ``among`` with ``seed``."""

    seed: int
    among: tuple[str, ...] | tuple[tuple[str, ...], ...]
    chosen: str | tuple[str, ...]


@dataclass(frozen=True)
class TallyResult:
    """Outcome of one count.

    Attributes:
        method: rule id.
        candidates: all candidates, in profile order.
        winners: every winner; more than one means a tie (never hidden).  For slates: every
            candidate in at least one winning committee.
        ranking: tiers from best to worst; candidates in one tier are tied.
        scores: the rule's score per candidate, when it has one (else empty).
        committees: for slate rules, every winning committee (sorted names).
        tiebreak: set only when a seeded tie-break was requested and needed.
        details: rule-specific extras (rounds, pairwise matrix, abstentions…), JSON-friendly.
    """

    method: str
    candidates: tuple[str, ...]
    winners: tuple[str, ...]
    ranking: tuple[tuple[str, ...], ...]
    scores: Mapping[str, float] = field(default_factory=dict)
    committees: tuple[tuple[str, ...], ...] | None = None
    tiebreak: TieBreak | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tied(self) -> bool:
        if self.committees is not None:
            return len(self.committees) > 1
        return len(self.winners) > 1

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "winners": list(self.winners),
            "ranking": [list(t) for t in self.ranking],
            "scores": {k: _jsonable(v) for k, v in self.scores.items()},
            "tied": self.tied,
        }
        if self.committees is not None:
            out["committees"] = [list(c) for c in self.committees]
        if self.tiebreak is not None:
            tb = self.tiebreak
            out["tiebreak"] = {
                "seed": tb.seed,
                "among": [list(a) if isinstance(a, tuple) else a for a in tb.among],
                "chosen": list(tb.chosen) if isinstance(tb.chosen, tuple) else tb.chosen,
            }
        if self.details:
            out["details"] = {k: _jsonable(v) for k, v in self.details.items()}
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def ranking_from_scores(candidates: Sequence[str], scores: Sequence[float] | np.ndarray[Any, Any]) -> tuple[
    tuple[str, ...], ...
]:
    """Tiers of candidates by descending score; equal scores share a tier (exact comparison)."""
    order = sorted(range(len(candidates)), key=lambda i: -scores[i])
    tiers: list[list[str]] = []
    last: Any = None
    for i in order:
        if tiers and scores[i] == last:
            tiers[-1].append(candidates[i])
        else:
            tiers.append([candidates[i]])
            last = scores[i]
    return tuple(tuple(t) for t in tiers)


def iterated_ranking(
    candidates: Sequence[str], winners_of: Callable[[list[int]], list[int]]
) -> tuple[tuple[str, ...], ...]:
    """Rank by repeated winner removal: the winners, then the winners among the rest, and so on."""
    remaining = list(range(len(candidates)))
    tiers: list[tuple[str, ...]] = []
    while remaining:
        won = winners_of(remaining) if len(remaining) > 1 else list(remaining)
        tiers.append(tuple(candidates[i] for i in won))
        remaining = [i for i in remaining if i not in set(won)]
    return tuple(tiers)


def apply_tiebreak(result: TallyResult, seed: int | None) -> TallyResult:
    """Draw one winner (or committee) uniformly from the tied ones with ``numpy.random.default_rng(seed)``.

    The tie itself stays visible in ``winners``/``committees``; the draw is recorded in ``tiebreak``.
    """
    if seed is None or not result.tied:
        return result
    rng = np.random.default_rng(seed)
    if result.committees is not None:
        pool_c = tuple(sorted(result.committees))
        chosen_c = pool_c[int(rng.integers(len(pool_c)))]
        return replace(result, tiebreak=TieBreak(seed, pool_c, chosen_c))
    pool = tuple(sorted(result.winners))
    return replace(result, tiebreak=TieBreak(seed, pool, pool[int(rng.integers(len(pool)))]))
