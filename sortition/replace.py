"""Replacements after declines: fill the open seats so the whole panel still meets every quota.

The people who accepted stay; quotas shrink by what they already cover (a minimum can drop to 0, a
maximum cannot go below 0); the remaining pool loses everyone already selected or declined and, when
households are on, everyone sharing an address with someone who stays. Then the same lottery runs
on that smaller problem with the same fairness objective.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sortition.errors import BadDataError
from sortition.lottery import DEFAULT_LOTTERY_SIZE, run_lottery
from sortition.types import Pool, Quota, SelectionResult


def replacement_pool(
    pool: Pool, selected: Sequence[str], declined: Iterable[str], exclude: Iterable[str] = ()
) -> tuple[Pool, int]:
    """The sub-problem for replacements: (remaining pool with shrunk quotas, number of open seats).

    Raises:
        BadDataError: unknown ids, a decliner who was not selected, or a quota the kept members
            already exceed.
    """
    ids = {p.id for p in pool.people}
    declined_set = set(declined)
    selected_set = set(selected)
    for pid in [*selected, *declined_set]:
        if pid not in ids:
            raise BadDataError(f"id {pid!r} is not in the pool", code="unknown_id", params={"id": pid})
    stray = declined_set - selected_set
    if stray:
        raise BadDataError(
            f"these people declined but were not selected: {', '.join(sorted(stray))}",
            code="declined_not_selected",
            params={"ids": sorted(stray)},
        )
    kept = [p for p in pool.people if p.id in selected_set - declined_set]
    seats = len(selected_set & declined_set)
    cats = pool.categories
    quotas = []
    for j, f in enumerate(cats.features):
        for v in cats.values[f]:
            q = cats.quotas[(f, v)]
            have = sum(1 for p in kept if p.values[j] == v)
            if have > q.max:
                raise BadDataError(
                    f"the members who stay already exceed the maximum of {f}={v} ({have} > {q.max})",
                    code="kept_exceed_quota",
                    params={"feature": f, "value": v, "have": have, "max": q.max},
                )
            quotas.append(Quota(f, v, max(0, q.min - have), q.max - have, q.line))
    gone = selected_set | declined_set | set(exclude)
    homes = {p.household for p in kept if p.household is not None}
    remaining = tuple(p for p in pool.people if p.id not in gone and (p.household is None or p.household not in homes))
    return Pool(cats.with_quotas(quotas), remaining, pool.address_columns, pool.file), seats


def draw_replacements(
    pool: Pool,
    selected: Sequence[str],
    declined: Iterable[str],
    *,
    seed: str,
    algorithm: str = "leximin",
    exclude: Iterable[str] = (),
    lottery_size: int = DEFAULT_LOTTERY_SIZE,
) -> SelectionResult:
    """Draw replacements for the decliners; ``result.panel`` lists only the replacements.

    Args:
        pool: the original pool (with its quotas).
        selected: the panel originally drawn.
        declined: who declined (must be in ``selected``).
        seed: public seed string for this replacement draw.
        algorithm: as for :func:`sortition.lottery.run_lottery`.
        exclude: people who can no longer serve (withdrew, unreachable).
        lottery_size: number of tickets.

    Raises:
        BadDataError, InfeasibleQuotasError, SelectionError: as for ``run_lottery``.
    """
    sub, seats = replacement_pool(pool, selected, declined, exclude)
    if seats == 0:
        raise BadDataError("nobody declined: there is no seat to fill", code="no_open_seats")
    return run_lottery(sub, seats, algorithm=algorithm, seed=seed, lottery_size=lottery_size)
