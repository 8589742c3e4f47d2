"""Hypothesis strategies for random ballots (small electorates: ties and cycles are frequent)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAMES = ["a", "b", "c", "d", "e", "f"]


@st.composite
def weak_order(draw: st.DrawFn, m: int, truncate: bool, ties: bool) -> list[Any]:
    perm = draw(st.permutations(NAMES[:m]))
    k = draw(st.integers(1, m)) if truncate else m
    listed = list(perm[:k])
    if not ties:
        return listed
    out: list[Any] = []
    i = 0
    while i < len(listed):
        size = draw(st.integers(1, min(3, len(listed) - i)))
        tier = listed[i : i + size]
        out.append(tier[0] if size == 1 else tier)
        i += size
    return out


@st.composite
def ranked_ballots(
    draw: st.DrawFn, max_m: int = 5, truncate: bool = True, ties: bool = True, max_n: int = 12
) -> tuple[list[str], list[dict[str, Any]]]:
    m = draw(st.integers(2, max_m))
    # a few distinct opinions repeated gives weighted profiles with cycles and exact ties
    pool = draw(st.lists(weak_order(m, truncate, ties), min_size=1, max_size=6))
    picks = draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=max_n))
    return NAMES[:m], [{"ranking": pool[i]} for i in picks]


@st.composite
def approval_ballots(draw: st.DrawFn, max_m: int = 6, max_n: int = 10) -> tuple[list[str], list[dict[str, Any]]]:
    m = draw(st.integers(2, max_m))
    names = NAMES[:m]
    ballots = draw(
        st.lists(st.lists(st.sampled_from(names), min_size=1, max_size=m, unique=True), min_size=1, max_size=max_n)
    )
    return names, [{"approve": b} for b in ballots]


@st.composite
def score_ballots(
    draw: st.DrawFn, max_m: int = 5, max_n: int = 12, complete: bool = False
) -> tuple[list[str], list[dict[str, Any]]]:
    m = draw(st.integers(2, max_m))
    names = NAMES[:m]
    out = []
    for _ in range(draw(st.integers(1, max_n))):
        if complete:
            chosen = names
        else:
            chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=m, unique=True))
        out.append({"scores": {c: draw(st.integers(0, 5)) for c in chosen}})
    return names, out
