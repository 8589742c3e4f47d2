from __future__ import annotations

import pytest

from sortition import (
    BadDataError,
    Pool,
    draw_ticket,
    panel_meets_quotas,
    parse_people,
    run_lottery,
    verify_transcript,
)
from tests.sortition.conftest import fixture_bytes, generated_pool


@pytest.fixture(scope="module")
def pool() -> Pool:
    return generated_pool(150, 15, [2, 3, 4], seed=11)


@pytest.fixture(scope="module")
def result(pool: Pool):  # type: ignore[no-untyped-def]
    return run_lottery(pool, 15, seed="announced 2026-11-27")


def test_lottery_has_m_tickets_of_valid_panels(pool: Pool, result) -> None:  # type: ignore[no-untyped-def]
    assert result.lottery.size == 1000
    for panel in result.lottery.panels:
        assert panel_meets_quotas(pool, panel, 15) == []
    assert result.panel == result.lottery.panel_for_ticket(result.ticket)


def test_rounding_changes_probabilities_little(result) -> None:  # type: ignore[no-untyped-def]
    # each type's share moves by at most a few tickets, each person by the turn-taking 1/m on top
    assert result.max_rounding_change <= 0.02
    in_lottery = result.lottery.probabilities()
    assert sum(in_lottery.values()) == pytest.approx(15)


def test_same_inputs_same_lottery_and_ticket_from_seed(pool: Pool, result) -> None:  # type: ignore[no-untyped-def]
    again = run_lottery(pool, 15, seed="announced 2026-11-27")
    assert again.lottery == result.lottery and again.panel == result.panel
    assert result.ticket == draw_ticket(result.input_digest, "leximin", "announced 2026-11-27", 1000)
    other = run_lottery(pool, 15, seed="another seed")
    assert other.lottery == result.lottery  # the lottery is fixed before the seed is known
    assert other.ticket != result.ticket


def test_transcript_verifies_and_detects_tampering(pool: Pool, result) -> None:  # type: ignore[no-untyped-def]
    transcript = result.transcript()
    assert verify_transcript(pool, transcript) == []
    assert any("ticket" in p for p in verify_transcript(pool, transcript, seed="wrong"))
    forged = dict(transcript, panel=list(result.lottery.panels[(result.lottery.panels.index(result.panel) + 1) % len(result.lottery.panels)]))
    assert verify_transcript(pool, forged)
    smaller = Pool(pool.categories, pool.people[1:], pool.address_columns)
    assert any("digest" in p for p in verify_transcript(smaller, transcript))


@pytest.mark.parametrize("algorithm", ["maximin", "nash", "legacy"])
def test_other_algorithms_run(pool: Pool, algorithm: str) -> None:
    res = run_lottery(pool, 15, algorithm=algorithm, seed="s", lottery_size=200)
    assert panel_meets_quotas(pool, res.panel, 15) == []
    assert res.algorithm == algorithm and res.lottery.size == 200
    assert sum(res.probabilities.values()) == pytest.approx(15, abs=1e-6)


def test_households_never_two_from_one_address() -> None:
    pool = generated_pool(100, 10, [2, 3], seed=4, households=30)
    res = run_lottery(pool, 10, seed="x", lottery_size=300)
    for panel in res.lottery.panels:
        assert panel_meets_quotas(pool, panel, 10) == []


@pytest.mark.parametrize(
    ("size", "algorithm", "code"),
    [(0, "leximin", "bad_size"), (11, "leximin", "pool_too_small"), (3, "random", "unknown_algorithm")],
)
def test_bad_requests(small_pool: Pool, size: int, algorithm: str, code: str) -> None:
    with pytest.raises(BadDataError) as info:
        run_lottery(small_pool, size, algorithm=algorithm)
    assert info.value.code == code


def test_fixture_pool_lottery(small_pool: Pool) -> None:
    res = run_lottery(small_pool, 5, seed="fixture")
    assert panel_meets_quotas(small_pool, res.panel, 5) == []
    cats = small_pool.categories
    assert parse_people(fixture_bytes("people.csv"), cats).ids == small_pool.ids


def test_progress_callback_reaches_one(pool: Pool) -> None:
    seen: list[tuple[float, str]] = []
    run_lottery(pool, 15, seed="p", lottery_size=100, progress=lambda f, msg: seen.append((f, msg)))
    assert seen and seen[-1][0] == 1.0
    assert all(0 <= f <= 1 for f, _ in seen)
