"""Results per group, support tables, minority positions, quorum and supermajority thresholds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .ballots import parse_ballots
from .errors import VotingError
from .profiles import ChoiceProfile
from .registry import tally
from .results import TallyResult


@dataclass(frozen=True)
class GroupedResults:
    """The overall result and one result per group (e.g. per region), with group sizes."""

    overall: TallyResult
    groups: dict[str, TallyResult]
    sizes: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_dict(),
            "groups": {g: {"size": self.sizes[g], **r.to_dict()} for g, r in self.groups.items()},
        }


def group_results(
    method_id: str,
    ballots: Sequence[Mapping[str, Any]],
    groups: Sequence[str],
    *,
    candidates: Sequence[str] | None = None,
    seats: int | None = None,
    **parse_options: Any,
) -> GroupedResults:
    """Tally ``ballots`` overall and separately for each value of ``groups`` (one label per ballot).

    All groups are counted over the same candidate list (the overall one), so results compare.

    Raises:
        VotingError: if ``groups`` and ``ballots`` differ in length, or any ballot/method error.
    """
    if len(groups) != len(ballots):
        raise VotingError("one group label per ballot is required", field="groups")
    overall_profile = parse_ballots(ballots, candidates=candidates, **parse_options)
    cands = list(overall_profile.candidates) if not isinstance(overall_profile, ChoiceProfile) else None
    overall = tally(method_id, overall_profile, seats=seats)
    members: dict[str, list[Mapping[str, Any]]] = {}
    for ballot, group in zip(ballots, groups, strict=False):
        members.setdefault(str(group), []).append(ballot)
    per_group = {
        g: tally(method_id, parse_ballots(bs, candidates=cands, **parse_options), seats=seats)
        for g, bs in sorted(members.items())
    }
    return GroupedResults(overall, per_group, {g: len(bs) for g, bs in sorted(members.items())})


@dataclass(frozen=True)
class SupportTable:
    """Share of each group supporting each option.

    ``share[g, o]`` is the mean support (0..1) of option ``o`` among the voters of group ``g``;
    ``overall[o]`` the mean over everyone.
    """

    options: tuple[str, ...]
    groups: tuple[str, ...]
    sizes: dict[str, int]
    share: np.ndarray
    overall: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            "options": list(self.options),
            "groups": {
                g: {"size": self.sizes[g], "support": dict(zip(self.options, self.share[i].tolist(), strict=False))}
                for i, g in enumerate(self.groups)
            },
            "overall": dict(zip(self.options, self.overall.tolist(), strict=False)),
        }


def group_support(support: ArrayLike, groups: Sequence[str], options: Sequence[str]) -> SupportTable:
    """Build a :class:`SupportTable` from a voters × options matrix of support values in [0, 1]
    (e.g. approvals as 0/1, or yes = 1 / no = 0 on one proposal) and one group label per voter."""
    values = np.asarray(support, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.shape != (len(groups), len(options)):
        raise VotingError("support must be voters × options with one group label per voter", field="support")
    labels, inverse = np.unique(np.asarray([str(g) for g in groups]), return_inverse=True)
    sizes = np.bincount(inverse, minlength=labels.size)
    sums = np.zeros((labels.size, len(options)))
    np.add.at(sums, inverse, values)
    return SupportTable(
        tuple(options),
        tuple(str(x) for x in labels),
        {str(g): int(s) for g, s in zip(labels, sizes, strict=False)},
        sums / sizes[:, None],
        values.mean(axis=0) if len(groups) else np.zeros(len(options)),
    )


@dataclass(frozen=True)
class MinorityPosition:
    """An option not adopted overall but strongly supported within one group."""

    option: str
    group: str
    group_support: float
    overall_support: float
    group_size: int


def minority_positions(
    table: SupportTable, *, strong: float = 0.6, adopted: float = 0.5, min_group_size: int = 1
) -> list[MinorityPosition]:
    """Options whose overall support is below ``adopted`` but reach ``strong`` in some group of at
    least ``min_group_size`` voters, strongest first — so a report can carry minority opinions."""
    out = []
    for o, option in enumerate(table.options):
        if table.overall[o] >= adopted:
            continue
        for g, group in enumerate(table.groups):
            if table.sizes[group] >= min_group_size and table.share[g, o] >= strong:
                out.append(
                    MinorityPosition(option, group, float(table.share[g, o]), float(table.overall[o]),
                                     table.sizes[group])
                )
    return sorted(out, key=lambda p: (-p.group_support, p.option, p.group))


@dataclass(frozen=True)
class ThresholdResult:
    """Outcome of a yes/no decision with quorum and (super)majority.

    ``turnout`` = (yes + no + abstain) / eligible; ``yes_share`` = yes / (yes + no), abstentions
    counting towards the quorum but not the majority.  Both thresholds are *at least* (≥), compared
    exactly with fractions.
    """

    passed: bool
    quorum_met: bool
    majority_met: bool
    turnout: Fraction
    yes_share: Fraction
    quorum: Fraction
    majority: Fraction
    yes: int
    no: int
    abstain: int
    eligible: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "quorum_met": self.quorum_met,
            "majority_met": self.majority_met,
            "turnout": float(self.turnout),
            "yes_share": float(self.yes_share),
            "quorum": str(self.quorum),
            "majority": str(self.majority),
            "yes": self.yes,
            "no": self.no,
            "abstain": self.abstain,
            "eligible": self.eligible,
        }


def thresholds(
    yes: int,
    no: int,
    abstain: int = 0,
    *,
    eligible: int,
    quorum: Fraction | float | str = Fraction(1, 2),
    majority: Fraction | float | str = Fraction(1, 2),
    strict: bool = True,
) -> ThresholdResult:
    """Check a quorum and a (super)majority.

    Args:
        yes, no, abstain: ballot counts.
        eligible: panel members entitled to vote (the quorum base).
        quorum: minimum turnout, e.g. ``"1/2"``.
        majority: required yes share of yes+no, e.g. ``"2/3"`` for a two-thirds supermajority.
        strict: if True the yes share must *exceed* ``majority`` when it is exactly ½ (a simple
            majority means more than half); supermajorities above ½ are always "at least".
    """
    try:
        q, maj = Fraction(quorum), Fraction(majority)
    except (ValueError, TypeError, ZeroDivisionError):
        raise VotingError("quorum and majority must be fractions such as '1/2' or 0.5", field="majority") from None
    if not (0 <= q <= 1 and 0 <= maj < 1):
        raise VotingError("quorum must be in [0, 1] and majority in [0, 1)", field="majority")
    if min(yes, no, abstain) < 0 or eligible < yes + no + abstain or eligible <= 0:
        raise VotingError("counts must be non-negative and within the eligible number", field="eligible")
    cast = yes + no + abstain
    turnout = Fraction(cast, eligible)
    share = Fraction(yes, yes + no) if yes + no else Fraction(0)
    quorum_met = turnout >= q
    majority_met = share > maj if (strict and maj == Fraction(1, 2)) else share >= maj
    if yes + no == 0:
        majority_met = False
    return ThresholdResult(quorum_met and majority_met, quorum_met, majority_met, turnout, share, q, maj,
                           yes, no, abstain, eligible)


def choice_thresholds(profile: ChoiceProfile, *, eligible: int, **options: Any) -> ThresholdResult:
    """:func:`thresholds` on a yes/no/abstain profile."""
    c = profile.counts
    return thresholds(c["yes"], c["no"], c["abstain"], eligible=eligible, **options)
