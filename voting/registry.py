"""Rules registered by id, reached through one dispatcher :func:`tally`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import MethodInputError, UnknownMethodError
from .profiles import Profile
from .results import TallyResult, apply_tiebreak

RuleFunction = Callable[..., TallyResult]


@dataclass(frozen=True)
class Rule:
    """A registered rule: id, accepted profile kinds, whether it elects a slate, and its function."""

    id: str
    kinds: tuple[str, ...]
    slate: bool
    function: RuleFunction
    summary: str


RULES: dict[str, Rule] = {}


def register(
    rule_id: str, kinds: tuple[str, ...], summary: str, slate: bool = False
) -> Callable[[RuleFunction], RuleFunction]:
    """Decorator: register ``function(profile, **opts) -> TallyResult`` under ``rule_id``."""

    def deco(function: RuleFunction) -> RuleFunction:
        RULES[rule_id] = Rule(rule_id, kinds, slate, function, summary)
        return function

    return deco


def tally(
    method_id: str,
    profile: Profile,
    *,
    seats: int | None = None,
    tiebreak_seed: int | None = None,
    **options: Any,
) -> TallyResult:
    """Count ``profile`` with the rule ``method_id``.

    Args:
        method_id: a registered id (see :data:`RULES`).
        profile: an aggregated profile from :mod:`voting.ballots`.
        seats: committee size, required by slate rules (``av``, ``pav``, ``seq-phragmen``, ``mes``, ``cc``).
        tiebreak_seed: if set and the result is tied, draw one winner/committee with this seed and
            record it in ``result.tiebreak`` (the tie stays visible).
        **options: rule-specific options (documented on each rule).

    Raises:
        UnknownMethodError, MethodInputError, TooLargeError.
    """
    from . import rules  # noqa: F401  (registers the rules on first use)

    rule = RULES.get(method_id)
    if rule is None:
        raise UnknownMethodError(
            f"unknown method {method_id!r}; known: {', '.join(sorted(RULES))}", method=method_id
        )
    if profile.kind not in rule.kinds:
        raise MethodInputError(
            f"method {method_id!r} counts {' or '.join(rule.kinds)} ballots, not {profile.kind} ballots",
            method=method_id,
            kind=profile.kind,
        )
    if rule.slate:
        if seats is None or seats < 1 or seats > len(profile.candidates):
            raise MethodInputError(
                f"method {method_id!r} needs seats between 1 and {len(profile.candidates)}", field="seats"
            )
        result = rule.function(profile, seats=seats, **options)
    else:
        if seats not in (None, 1):
            raise MethodInputError(f"method {method_id!r} elects a single winner; seats must be 1", field="seats")
        result = rule.function(profile, **options)
    return apply_tiebreak(result, tiebreak_seed)


def methods() -> dict[str, Rule]:
    """All registered rules by id."""
    from . import rules  # noqa: F401

    return dict(RULES)
