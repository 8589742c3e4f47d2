"""The lottery end to end: check inputs, compute the distribution, round it, draw the public ticket.

This is the API the app calls::

    cats = parse_categories(categories_bytes, file="categories.csv")
    pool = parse_people(people_bytes, cats, address_columns=["address1", "postcode"])
    check_feasibility(pool, size)            # raises InfeasibleQuotasError with a diagnosis
    result = run_lottery(pool, size, seed="announced seed string")
    publish(result.transcript())             # verify_transcript() replays it
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sortition.algorithms import ALGORITHMS, DISTRIBUTION_ALGORITHMS, Progress
from sortition.algorithms.common import (
    PanelSet,
    TypeModel,
    best_panel,
    build_type_model,
    person_probabilities,
)
from sortition.algorithms.legacy import legacy_draws
from sortition.algorithms.rounding import round_to_lottery
from sortition.diagnose import diagnose
from sortition.errors import BadDataError, InfeasibleQuotasError
from sortition.rng import ALGORITHM_VERSION, draw_ticket, input_digest, lottery_rng
from sortition.types import Lottery, Pool, SelectionResult

DEFAULT_LOTTERY_SIZE = 1000


@dataclass
class Distribution:
    """An (optimal) distribution over panels, at the level of types, with per-person probabilities."""

    model: TypeModel
    panels: list[np.ndarray]
    weights: np.ndarray
    probabilities: dict[str, float]
    stats: dict[str, Any] = field(default_factory=dict)


def check_inputs(pool: Pool, size: int, algorithm: str = "leximin") -> None:
    """Cheap checks of the request itself.

    Raises:
        BadDataError: unknown algorithm, panel size below 1, or fewer volunteers than seats.
    """
    if algorithm not in ALGORITHMS:
        raise BadDataError(
            f"unknown algorithm {algorithm!r} (choose from {', '.join(ALGORITHMS)})",
            code="unknown_algorithm",
            params={"algorithm": algorithm},
        )
    if size < 1:
        raise BadDataError(f"panel size must be at least 1 (got {size})", code="bad_size", params={"size": size})
    if len(pool.people) < size:
        raise BadDataError(
            f"the pool has {len(pool.people)} people, fewer than the panel size {size}",
            code="pool_too_small",
            params={"pool": len(pool.people), "size": size},
            file=pool.file,
        )


def check_feasibility(pool: Pool, size: int) -> TypeModel:
    """Raise unless some panel of ``size`` meets every quota (and household rule); returns the type model.

    Raises:
        BadDataError: see :func:`check_inputs`.
        InfeasibleQuotasError: with ``diagnosis`` naming a minimal clashing set of quotas and the
            smallest relaxation.
    """
    check_inputs(pool, size)
    model = build_type_model(pool, size)
    if best_panel(model, np.zeros(model.num_types)) is None:
        diagnosis = diagnose(pool, size)
        raise InfeasibleQuotasError(
            "no panel of this size meets every quota\n" + diagnosis.describe(),
            diagnosis,
            params={"size": size},
            file=pool.categories.file,
        )
    return model


def find_distribution(
    pool: Pool,
    size: int,
    algorithm: str = "leximin",
    rng: np.random.Generator | None = None,
    progress: Progress | None = None,
) -> Distribution:
    """The selection distribution of ``algorithm`` (not for "legacy", which has none).

    ``progress(fraction, message)`` is called as the solver advances (for a background job).

    Raises:
        BadDataError, InfeasibleQuotasError: see :func:`check_feasibility`.
    """
    check_inputs(pool, size, algorithm)
    model = check_feasibility(pool, size)
    if rng is None:
        rng = lottery_rng(input_digest(pool, size), algorithm)
    panels = PanelSet(model)
    weights, stats = DISTRIBUTION_ALGORITHMS[algorithm](model, panels, rng, progress)
    type_probs = np.asarray(panels.matrix() @ weights).ravel()
    per_person = person_probabilities(model, type_probs, len(pool.people))
    probs = {p.id: float(v) for p, v in zip(pool.people, per_person, strict=True)}
    return Distribution(model, list(panels.panels), weights, probs, dict(stats))


def run_lottery(
    pool: Pool,
    size: int,
    *,
    algorithm: str = "leximin",
    seed: str = "",
    lottery_size: int = DEFAULT_LOTTERY_SIZE,
    rng: np.random.Generator | None = None,
    progress: Progress | None = None,
) -> SelectionResult:
    """Compute the distribution, round it to ``lottery_size`` tickets, and draw the ticket for ``seed``.

    Args:
        pool: parsed volunteers and quotas.
        size: panel size.
        algorithm: "leximin" (default), "maximin", "nash" or "legacy".
        seed: the public seed string announced before the draw.
        lottery_size: number of tickets m.
        rng: generator for building the lottery; by default derived from the inputs (so the lottery
            is fixed before the seed is known). Pass one only in tests.
        progress: optional ``progress(fraction, message)`` callback for a background job.

    Returns:
        A :class:`SelectionResult`; ``result.transcript()`` is the publishable record.

    Raises:
        BadDataError: bad request (see :func:`check_inputs`).
        InfeasibleQuotasError: quotas cannot be met, with diagnosis.
        SelectionError: a solver failure.
    """
    started = time.perf_counter()
    check_inputs(pool, size, algorithm)
    if lottery_size < 1:
        raise BadDataError("lottery size must be at least 1", code="bad_lottery_size")
    digest = input_digest(pool, size)
    if rng is None:
        rng = lottery_rng(digest, algorithm)
    if algorithm == "legacy":
        model = check_feasibility(pool, size)
        draws = legacy_draws(model, lottery_size, rng)
        weights = np.full(len(draws), 1.0 / len(draws))
        lottery = round_to_lottery(model, pool, draws, weights, lottery_size, rng)
        probabilities = {p.id: 0.0 for p in pool.people} | lottery.probabilities()
        stats: dict[str, Any] = {"estimated_probabilities": True}
        exact = probabilities
    else:
        dist = find_distribution(pool, size, algorithm, rng, progress)
        lottery = round_to_lottery(dist.model, pool, dist.panels, dist.weights, lottery_size, rng)
        exact = dist.probabilities
        probabilities = exact
        stats = dist.stats
    in_lottery = lottery.probabilities()
    change = max((abs(in_lottery.get(pid, 0.0) - p) for pid, p in exact.items()), default=0.0)
    ticket = draw_ticket(digest, algorithm, seed, lottery.size)
    stats = dict(stats) | {"distinct_panels_in_lottery": len(lottery.panels)}
    return SelectionResult(
        panel=lottery.panel_for_ticket(ticket),
        probabilities=probabilities,
        min_probability=min(probabilities.values()) if probabilities else 0.0,
        algorithm=algorithm,
        algorithm_version=ALGORITHM_VERSION,
        seed=seed,
        ticket=ticket,
        lottery=lottery,
        input_digest=digest,
        size=size,
        seconds=round(time.perf_counter() - started, 3),
        max_rounding_change=change,
        stats=stats,
    )


def panel_meets_quotas(pool: Pool, panel: tuple[str, ...] | list[str], size: int) -> list[str]:
    """Problems with ``panel`` (empty list if it is a valid panel of ``pool`` of ``size``)."""
    problems = []
    index = {p.id: p for p in pool.people}
    unknown = [pid for pid in panel if pid not in index]
    if unknown:
        return [f"ids not in the pool: {', '.join(unknown[:5])}"]
    if len(set(panel)) != len(panel):
        problems.append("a person appears twice")
    if len(panel) != size:
        problems.append(f"panel has {len(panel)} people, expected {size}")
    cats = pool.categories
    for j, f in enumerate(cats.features):
        for v in cats.values[f]:
            q = cats.quotas[(f, v)]
            have = sum(1 for pid in panel if index[pid].values[j] == v)
            if not q.min <= have <= q.max:
                problems.append(f"{f}={v}: {have} selected, quota {q.min}..{q.max}")
    homes = [index[pid].household for pid in panel if index[pid].household is not None]
    if len(homes) != len(set(homes)):
        problems.append("two people from the same household")
    return problems


def verify_transcript(pool: Pool, transcript: dict[str, Any], seed: str | None = None) -> list[str]:
    """Replay a published lottery; returns the list of mismatches (empty means it verifies).

    Checks the input digest, that every ticket's panel meets every quota, that the ticket follows
    from the seed, and that the announced panel is that ticket's panel.
    """
    problems: list[str] = []
    size = int(transcript.get("size", 0))
    seed = transcript.get("seed", "") if seed is None else seed
    digest = input_digest(pool, size)
    if digest != transcript.get("input_digest"):
        problems.append(f"input digest differs: files give {digest}, transcript says {transcript.get('input_digest')}")
    if transcript.get("algorithm_version") != ALGORITHM_VERSION:
        problems.append(f"transcript is from {transcript.get('algorithm_version')}, this is {ALGORITHM_VERSION}")
    entries = transcript.get("lottery", [])
    lottery = Lottery(tuple(tuple(e["panel"]) for e in entries), tuple(int(e["copies"]) for e in entries))
    if lottery.size != transcript.get("lottery_size"):
        problems.append(f"lottery has {lottery.size} tickets, transcript says {transcript.get('lottery_size')}")
    for i, panel in enumerate(lottery.panels):
        for problem in panel_meets_quotas(pool, panel, size):
            problems.append(f"lottery panel {i}: {problem}")
    if lottery.size:
        ticket = draw_ticket(digest, str(transcript.get("algorithm")), str(seed), lottery.size)
        if ticket != transcript.get("ticket"):
            problems.append(f"seed {seed!r} gives ticket {ticket}, transcript says {transcript.get('ticket')}")
        if list(lottery.panel_for_ticket(ticket)) != sorted(transcript.get("panel", [])):
            problems.append("the announced panel is not the panel of the drawn ticket")
    return problems
