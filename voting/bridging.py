"""Bridging consensus on agree / disagree / pass reactions to statements.

Input is a list of ``(voter, statement, reaction)`` triples, reaction ``"agree"``/``1``,
``"disagree"``/``-1`` or ``"pass"``/``0`` (a voter's last reaction to a statement counts).

* :func:`group_aware_consensus` — Pol.is: for each statement, the product over opinion groups of
  ``(1 + agrees_g) / (2 + votes_g)`` where ``votes_g`` counts agree, disagree and pass reactions
  from group ``g`` (Laplace-smoothed agreement probability; high only if *every* group agrees).
* :func:`bridging_scores` — Community-Notes-style matrix factorisation.  Ratings (agree = 1,
  disagree = 0; passes are left out) are modelled as ``μ + b_voter + b_statement + f_voter·f_statement``
  with L2 penalties (intercepts ``reg_intercept``, factors ``reg_factor``), fitted by alternating
  exact least squares from a seeded start.  The factor soaks up the polarised axis; the
  statement intercept ``b_statement`` is agreement *not explained* by it — the bridging score.
  A statement is flagged ``bridging`` when its intercept ≥ ``threshold`` (a policy choice; 0.2
  by default on this 0/1 scale), its factor is below ``max_factor`` in magnitude (as Community
  Notes' ``|f| < 0.5``) and it has at least ``min_raters`` ratings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import VotingError

REACTIONS: dict[Any, int] = {"agree": 1, "disagree": -1, "pass": 0, 1: 1, -1: -1, 0: 0}


def _reactions(votes: Iterable[tuple[Any, Any, Any]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for i, triple in enumerate(votes):
        try:
            voter, statement, reaction = triple
        except (TypeError, ValueError):
            raise VotingError(f"reaction {i + 1}: expected (voter, statement, reaction)", line=i + 1) from None
        value = REACTIONS.get(reaction) if not isinstance(reaction, bool) else None
        if value is None:
            raise VotingError(f"reaction {i + 1}: reaction must be agree, disagree or pass", line=i + 1,
                              field="reaction")
        out[(str(voter), str(statement))] = value
    return out


def group_aware_consensus(
    votes: Iterable[tuple[Any, Any, Any]], groups: Mapping[Any, Any]
) -> dict[str, float]:
    """Pol.is group-aware consensus per statement (voters without a group are ignored)."""
    reactions = _reactions(votes)
    group_of = {str(k): str(v) for k, v in groups.items()}
    all_groups = sorted(set(group_of.values()))
    agree: dict[str, dict[str, int]] = {}
    seen: dict[str, dict[str, int]] = {}
    statements: set[str] = set()
    for (voter, statement), value in reactions.items():
        statements.add(statement)
        g = group_of.get(voter)
        if g is None:
            continue
        seen.setdefault(statement, {}).setdefault(g, 0)
        seen[statement][g] += 1
        if value == 1:
            agree.setdefault(statement, {}).setdefault(g, 0)
            agree[statement][g] += 1
    out: dict[str, float] = {}
    for s in sorted(statements):
        score = 1.0
        for g in all_groups:
            score *= (1 + agree.get(s, {}).get(g, 0)) / (2 + seen.get(s, {}).get(g, 0))
        out[s] = score
    return out


@dataclass(frozen=True)
class BridgingScore:
    intercept: float
    factor: float
    raters: int
    agree_share: float
    bridging: bool


def bridging_scores(
    votes: Iterable[tuple[Any, Any, Any]],
    *,
    reg_intercept: float = 0.15,
    reg_factor: float = 0.03,
    iterations: int = 100,
    seed: int = 0,
    threshold: float = 0.2,
    max_factor: float = 0.5,
    min_raters: int = 5,
) -> dict[str, BridgingScore]:
    """Fit the 1-factor model and return each statement's bridging score (see module docstring)."""
    reactions = {k: v for k, v in _reactions(votes).items() if v != 0}
    if not reactions:
        return {}
    voters = sorted({v for v, _ in reactions})
    statements = sorted({s for _, s in reactions})
    vi = {v: i for i, v in enumerate(voters)}
    si = {s: i for i, s in enumerate(statements)}
    u = np.fromiter((vi[v] for v, _ in reactions), dtype=np.int64, count=len(reactions))
    n = np.fromiter((si[s] for _, s in reactions), dtype=np.int64, count=len(reactions))
    r = np.fromiter(((x + 1) / 2 for x in reactions.values()), dtype=float, count=len(reactions))
    rng = np.random.default_rng(seed)
    nu, ns = len(voters), len(statements)
    bu, bn = np.zeros(nu), np.zeros(ns)
    fu, fn = rng.normal(0, 0.1, nu), rng.normal(0, 0.1, ns)
    mu = float(r.mean())
    lam_i, lam_f = reg_intercept * len(r), reg_factor * len(r)
    # Penalties scale with the number of ratings as in a mean-squared-error loss; each block
    # update below is the exact minimiser of the loss in (intercept, factor) for one side.
    for _ in range(iterations):
        bu, fu = _solve_side(u, nu, r - mu - bn[n], fn[n], lam_i / nu, lam_f / nu)
        bn, fn = _solve_side(n, ns, r - mu - bu[u], fu[u], lam_i / ns, lam_f / ns)
        mu = float((r - bu[u] - bn[n] - fu[u] * fn[n]).mean())
    # Orientation of the factor is arbitrary; report it with the larger group positive.
    if np.sum(fu > 0) < np.sum(fu < 0):
        fu, fn = -fu, -fn
    raters = np.bincount(n, minlength=ns)
    agree = np.bincount(n, weights=r, minlength=ns)
    return {
        s: BridgingScore(
            float(bn[j]),
            float(fn[j]),
            int(raters[j]),
            float(agree[j] / raters[j]),
            bool(bn[j] >= threshold and abs(fn[j]) < max_factor and raters[j] >= min_raters),
        )
        for j, s in enumerate(statements)
    }


def _solve_side(
    idx: np.ndarray, size: int, target: np.ndarray, other: np.ndarray, lam_b: float, lam_f: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per entity, ridge-solve target ≈ b + f·other for (b, f) in closed form (2×2 systems)."""
    s1 = np.bincount(idx, minlength=size).astype(float)
    sx = np.bincount(idx, weights=other, minlength=size)
    sxx = np.bincount(idx, weights=other * other, minlength=size)
    sy = np.bincount(idx, weights=target, minlength=size)
    sxy = np.bincount(idx, weights=other * target, minlength=size)
    a11, a12, a22 = s1 + lam_b, sx, sxx + lam_f
    det = a11 * a22 - a12 * a12
    b = (a22 * sy - a12 * sxy) / det
    f = (a11 * sxy - a12 * sy) / det
    return b, f
