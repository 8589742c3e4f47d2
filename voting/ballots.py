"""Ballot parsing: JSON lines or Python dicts → an aggregated :mod:`voting.profiles` profile.

Ballot shapes (one JSON object per line, the DESIGN.md contract)::

    {"choice": "yes"}                       yes / no / abstain
    {"approve": ["a", "c"]}                 approval
    {"scores": {"a": 4, "b": 0}}            score, integers in the declared range
    {"ranking": ["a", ["b", "c"], "d"]}     ranked; nested list = tie; unlisted = below all listed
    {"grades": {"a": "good"}}               majority judgment, grades from the declared scale

A ballot may also carry an ``"id"`` or ``"receipt"`` field, which is ignored.  Every ballot
of a profile must have the same type.  Errors name the 1-based line (or list position) and
the field.  JSON-lines files are read by :mod:`voting.jsonl`.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import chain, count, repeat
from operator import itemgetter
from typing import Any

import numpy as np

from .errors import BallotError
from .profiles import (
    CHOICES,
    ApprovalProfile,
    ChoiceProfile,
    GradeProfile,
    Profile,
    RankedProfile,
    ScoreProfile,
)

KINDS: dict[str, str] = {
    "choice": "choice",
    "approve": "approval",
    "scores": "score",
    "ranking": "ranked",
    "grades": "grades",
}
IGNORED_FIELDS = frozenset({"id", "receipt"})
DEFAULT_SCORE_RANGE = (0, 5)
DEFAULT_GRADE_SCALE: tuple[str, ...] = ("reject", "poor", "acceptable", "good", "very good", "excellent")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building ballots.

    Decoding allocates one dict/list per ballot and none of them form cycles; without the pause the
    collector repeatedly walks every live object of the process (in a busy app or benchmark, a large
    heap), which costs more than the parsing itself.  The previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_ballots(
    ballots: Iterable[Mapping[str, Any]],
    *,
    candidates: Sequence[str] | None = None,
    score_range: tuple[int, int] = DEFAULT_SCORE_RANGE,
    grade_scale: Sequence[str] = DEFAULT_GRADE_SCALE,
    kind: str | None = None,
) -> Profile:
    """Build a profile from ballots given as Python dicts (the app's entry point).

    Args:
        ballots: one mapping per voter, in the JSON-lines shapes above.
        candidates: the allowed candidates, in display order; default = names found, sorted.
        score_range: inclusive integer range for score ballots.
        grade_scale: grade names from worst to best for majority-judgment ballots.
        kind: expected ballot type (``ranked``, ``approval``, ``score``, ``grades``, ``choice``);
            default = the type of the first ballot.

    Returns:
        An aggregated profile.

    Raises:
        BallotError: with ``line`` = 1-based position in ``ballots`` and ``field``.
    """
    items = list(ballots)
    weights = np.ones(len(items), dtype=np.int64)
    with _gc_paused():
        return _encode(items, weights, lambda u: u + 1, candidates, score_range, tuple(grade_scale), kind)


def _ballot_kind(item: Any, line_of: Any, u: int) -> tuple[str, str]:
    if not isinstance(item, dict):
        raise BallotError("a ballot must be a JSON object", line_of(u))
    keys = [k for k in item if k not in IGNORED_FIELDS]
    known = [k for k in keys if k in KINDS]
    unknown = [k for k in keys if k not in KINDS]
    if unknown:
        raise BallotError(f"unknown field {unknown[0]!r}", line_of(u), unknown[0])
    if len(known) != 1:
        raise BallotError(
            "a ballot needs exactly one of " + ", ".join(repr(k) for k in KINDS), line_of(u), known[1] if known else None
        )
    return known[0], KINDS[known[0]]


def _encode(
    items: list[Any],
    weights: np.ndarray[Any, Any],
    line_of: Any,
    candidates: Sequence[str] | None,
    score_range: tuple[int, int],
    scale: tuple[str, ...],
    kind: str | None,
) -> Profile:
    if score_range[0] >= score_range[1]:
        raise BallotError(f"bad score range {score_range[0]}..{score_range[1]}", field="score_range")
    if not scale or len(set(scale)) != len(scale):
        raise BallotError("the grade scale needs distinct grade names", field="grade_scale")
    if not items:
        raise BallotError("no ballots")
    key, first_kind = _ballot_kind(items[0], line_of, 0)
    expected = kind or first_kind
    if expected not in KINDS.values():
        raise BallotError(f"unknown ballot type {expected!r}")
    # Fast check (C-level maps) that every ballot is an object with the same single key; the slow
    # path runs only to name the bad ballot.
    payload: list[Any] | None = None
    if expected == first_kind and set(map(type, items)) == {dict} and set(map(len, items)) == {1}:
        try:
            payload = list(map(itemgetter(key), items))
        except KeyError:
            payload = None
    if payload is None:
        for u, it in enumerate(items):
            _, k = _ballot_kind(it, line_of, u)
            if k != expected:
                raise BallotError(f"expected {expected} ballots, got a {k} ballot", line_of(u), _field_for(k))
        payload = [it[key] for it in items]
    if candidates is not None:
        cands = tuple(candidates)
        if len(set(cands)) != len(cands):
            raise BallotError("duplicate name in the candidate list")
    else:
        cands = None
    if expected == "choice":
        return _encode_choice(payload, weights, line_of)
    if expected == "ranked":
        return _encode_ranked(payload, weights, line_of, cands)
    if expected == "approval":
        return _encode_approval(payload, weights, line_of, cands)
    return _encode_mapping(payload, weights, line_of, cands, expected, score_range, scale)


def _field_for(kind: str) -> str:
    return next(k for k, v in KINDS.items() if v == kind)


def _encode_choice(payload: list[Any], weights: np.ndarray[Any, Any], line_of: Any) -> ChoiceProfile:
    counts = dict.fromkeys(CHOICES, 0)
    for u, choice in enumerate(payload):
        if not isinstance(choice, str) or choice not in counts:
            raise BallotError(f"choice must be one of {', '.join(CHOICES)}", line_of(u), "choice")
        counts[choice] += int(weights[u])
    return ChoiceProfile(counts)


def _candidate_index(
    names: Iterable[Any], cands: tuple[str, ...] | None
) -> tuple[tuple[str, ...], dict[str, int]]:
    if cands is None:
        found = set(names)
        bad = [n for n in found if not isinstance(n, str)]
        if bad:
            raise TypeError("non-string candidate")
        cands = tuple(sorted(found))
    return cands, {c: i for i, c in enumerate(cands)}


def _flat_codes(
    lists: list[Any], line_of: Any, cands: tuple[str, ...] | None, field: str
) -> tuple[tuple[str, ...], np.ndarray[Any, Any], np.ndarray[Any, Any], list[Any]]:
    """Map ballots that are flat lists of names to (candidates, lengths, codes, names)."""
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    flat = list(chain.from_iterable(lists))
    if cands is not None:
        index = {c: i for i, c in enumerate(cands)}
        codes = np.fromiter(map(index.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        return cands, lengths, codes, flat
    # Candidates = the names found: number them in order of first appearance in one C-level pass
    # (a defaultdict backed by a counter), then renumber in sorted-name order.
    seen: defaultdict[Any, int] = defaultdict(count().__next__)
    first_codes = np.fromiter(map(seen.__getitem__, flat), dtype=np.int64, count=len(flat))
    if not all(isinstance(n, str) for n in seen):
        raise TypeError("non-string candidate")
    names = sorted(seen)
    renumber = np.empty(len(names), dtype=np.int64)
    renumber[[seen[n] for n in names]] = np.arange(len(names))
    return tuple(str(n) for n in names), lengths, renumber[first_codes], flat


def _check_rows(
    lengths: np.ndarray[Any, Any],
    codes: np.ndarray[Any, Any],
    cands: tuple[str, ...],
    line_of: Any,
    field: str,
    names: list[Any],
) -> np.ndarray[Any, Any]:
    """Shared checks: empty ballots, unknown and duplicate candidates.  Returns the row of each code."""
    u_count = lengths.size
    m = len(cands)
    rows = np.repeat(np.arange(u_count), lengths)
    bad_rows: list[tuple[int, str, str]] = []
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        bad_rows.append((int(empty[0]), "empty ballot", field))
    unknown = np.flatnonzero(codes < 0)
    if unknown.size:
        i = int(unknown[0])
        bad_rows.append((int(rows[i]), f"unknown candidate {names[i]!r}", field))
    if codes.size and not unknown.size:
        lin = rows * m + codes
        dup = np.flatnonzero(np.bincount(lin, minlength=u_count * m) > 1)
        if dup.size:
            u, c = divmod(int(dup[0]), m)
            bad_rows.append((u, f"candidate {cands[c]!r} listed twice", field))
    if bad_rows:
        u, msg, fld = min(bad_rows, key=lambda t: line_of(t[0]))
        raise BallotError(msg, line_of(u), fld)
    return rows


def _encode_approval(
    payload: list[Any], weights: np.ndarray[Any, Any], line_of: Any, cands: tuple[str, ...] | None
) -> ApprovalProfile:
    for u, p in enumerate(payload):
        if type(p) is not list:
            raise BallotError("'approve' must be a list of candidate names", line_of(u), "approve")
    try:
        cands, lengths, codes, flat = _flat_codes(payload, line_of, cands, "approve")
    except TypeError:
        u = next(u for u, p in enumerate(payload) if not all(isinstance(x, str) for x in p))
        raise BallotError("'approve' must list candidate names (strings)", line_of(u), "approve") from None
    m = len(cands)
    rows = _check_rows(lengths, codes, cands, line_of, "approve", flat)
    approved = np.zeros((lengths.size, m), dtype=bool)
    approved[rows, codes] = True
    return ApprovalProfile.build(cands, approved, weights)


def _encode_ranked(
    payload: list[Any], weights: np.ndarray[Any, Any], line_of: Any, cands: tuple[str, ...] | None
) -> RankedProfile:
    for u, p in enumerate(payload):
        if type(p) is not list:
            raise BallotError("'ranking' must be a list", line_of(u), "ranking")
    try:
        # Fast path: flat rankings (no ties inside the ballot); position = tier.
        cands, lengths, codes, flat = _flat_codes(payload, line_of, cands, "ranking")
        tiers_flat = np.arange(codes.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        ntiers = lengths
    except TypeError:
        cands, lengths, codes, flat, tiers_flat, ntiers = _ranked_with_ties(payload, line_of, cands)
    m = len(cands)
    rows = _check_rows(lengths, codes, cands, line_of, "ranking", flat)
    ranks = np.repeat(ntiers.astype(np.int16)[:, None], m, axis=1)
    listed = np.zeros((lengths.size, m), dtype=bool)
    ranks[rows, codes] = tiers_flat
    listed[rows, codes] = True
    return RankedProfile.build(cands, ranks, listed, weights)


def _ranked_with_ties(
    payload: list[Any], line_of: Any, cands: tuple[str, ...] | None
) -> tuple[
    tuple[str, ...], np.ndarray[Any, Any], np.ndarray[Any, Any], list[Any], np.ndarray[Any, Any], np.ndarray[Any, Any]
]:
    flat: list[Any] = []
    tiers: list[int] = []
    lengths: list[int] = []
    ntiers: list[int] = []
    for u, ranking in enumerate(payload):
        n = 0
        for t, entry in enumerate(ranking):
            if isinstance(entry, str):
                flat.append(entry)
                tiers.append(t)
                n += 1
            elif type(entry) is list and entry and all(isinstance(x, str) for x in entry):
                flat.extend(entry)
                tiers.extend([t] * len(entry))
                n += len(entry)
            else:
                raise BallotError(
                    "ranking entries must be names or non-empty lists of tied names", line_of(u), "ranking"
                )
        lengths.append(n)
        ntiers.append(len(ranking))
    cands, index = _candidate_index(flat, cands)
    codes = np.fromiter(map(index.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
    return (
        cands,
        np.asarray(lengths, dtype=np.int64),
        codes,
        flat,
        np.asarray(tiers, dtype=np.int64),
        np.asarray(ntiers, dtype=np.int64),
    )


def _encode_mapping(
    payload: list[Any],
    weights: np.ndarray[Any, Any],
    line_of: Any,
    cands: tuple[str, ...] | None,
    kind: str,
    score_range: tuple[int, int],
    scale: tuple[str, ...],
) -> ScoreProfile | GradeProfile:
    field = _field_for(kind)
    for u, p in enumerate(payload):
        if type(p) is not dict:
            raise BallotError(f"{field!r} must be an object mapping candidates to values", line_of(u), field)
    # Iterating a dict yields its keys: _flat_codes works on the dicts directly (C-level chains).
    try:
        cands, lengths, codes, flat_keys = _flat_codes(payload, line_of, cands, field)
    except TypeError:  # only possible for Python dicts: JSON object keys are always strings
        u = next(u for u, p in enumerate(payload) if not all(isinstance(k, str) for k in p))
        raise BallotError(f"{field!r} keys must be candidate names (strings)", line_of(u), field) from None
    m = len(cands)
    rows = _check_rows(lengths, codes, cands, line_of, field, flat_keys)
    values = list(chain.from_iterable(map(dict.values, payload)))
    low, high = score_range
    if kind == "score":
        fill = low
        if set(map(type, values)) <= {int}:
            coded_arr = np.fromiter(values, dtype=np.int64, count=len(values))
            ok_arr = (coded_arr >= low) & (coded_arr <= high)
        else:
            ok_arr = np.fromiter((type(v) is int and low <= v <= high for v in values), dtype=bool, count=len(values))
            coded_arr = np.fromiter((v if ok else low for v, ok in zip(values, ok_arr, strict=False)), dtype=np.int64,
                                    count=len(values))
    else:
        grade_index = {g: i for i, g in enumerate(scale)}
        coded_arr = np.fromiter((grade_index.get(v, -1) if isinstance(v, str) else -1 for v in values),
                                dtype=np.int64, count=len(values))
        ok_arr = coded_arr >= 0
        fill = 0
    if not ok_arr.all():
        bad = np.flatnonzero(~ok_arr)[:1000].tolist()
        i = min(bad, key=lambda j: line_of(int(rows[j])))
        where = f"{field}.{flat_keys[i]}"
        if kind == "score":
            msg = f"score {values[i]!r} for {flat_keys[i]!r} is not an integer in {low}..{high}"
        else:
            msg = f"grade {values[i]!r} for {flat_keys[i]!r} is not one of: {', '.join(scale)}"
        raise BallotError(msg, line_of(int(rows[i])), where)
    table = np.full((lengths.size, m), fill, dtype=np.int64)
    present = np.zeros((lengths.size, m), dtype=bool)
    table[rows, codes] = coded_arr
    present[rows, codes] = True
    if kind == "score":
        return ScoreProfile.build(cands, table, present, weights, low, high)
    return GradeProfile.build(cands, table, present, weights, scale)
