"""The one place the app talks to the :mod:`voting` library.

Everything the app needs from the library — the rule registry, ballot validation, counting,
and the command line that recomputes a published tally — goes through here, so a change in the
library's signatures touches this file only. Library errors become :class:`ValidationFailed`
naming the field, never a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import voting
from voting import BallotError, VotingError

from ..errors import Conflict, ValidationFailed

# Poll.ballot_type → the ballot's JSON key and the library's profile kind.
BALLOT_KEYS = {"yesno": "choice", "approval": "approve", "score": "scores", "ranked": "ranking",
               "grades": "grades"}
PROFILE_KINDS = {"yesno": "choice", "approval": "approval", "score": "score", "ranked": "ranked",
                 "grades": "grades"}
YESNO_CANDIDATES = ("yes", "no", "abstain")
DEFAULT_GRADE_SCALE: tuple[str, ...] = tuple(voting.DEFAULT_GRADE_SCALE)


@dataclass(frozen=True)
class PollSpec:
    """What the library needs to know about a poll to validate and count its ballots."""

    ballot_type: str
    method: str
    candidates: tuple[str, ...]
    seats: int = 1
    score_min: int = 0
    score_max: int = 5
    grade_scale: tuple[str, ...] = DEFAULT_GRADE_SCALE

    @classmethod
    def of(cls, poll: Any) -> PollSpec:
        return cls(ballot_type=poll.ballot_type, method=poll.method, candidates=tuple(poll.candidates),
                   seats=poll.seats or 1, score_min=poll.score_min, score_max=poll.score_max,
                   grade_scale=tuple(poll.grade_scale or DEFAULT_GRADE_SCALE))

    @property
    def kind(self) -> str:
        return PROFILE_KINDS[self.ballot_type]

    @property
    def key(self) -> str:
        return BALLOT_KEYS[self.ballot_type]

    def parse_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"kind": self.kind, "score_range": (self.score_min, self.score_max),
                                "grade_scale": self.grade_scale}
        if self.ballot_type != "yesno":
            opts["candidates"] = self.candidates
        return opts


@dataclass(frozen=True)
class MethodInfo:
    id: str
    summary: str
    slate: bool
    ballot_types: tuple[str, ...]


def methods() -> list[MethodInfo]:
    """Every registered rule with the poll ballot types it can count."""
    out = []
    for rule in voting.methods().values():
        types = tuple(bt for bt, kind in PROFILE_KINDS.items() if kind in rule.kinds)
        if types:
            out.append(MethodInfo(rule.id, rule.summary, rule.slate, types))
    return out


def method_info(method_id: str) -> MethodInfo | None:
    return next((m for m in methods() if m.id == method_id), None)


def check_method(ballot_type: str, method_id: str, seats: int, n_candidates: int) -> MethodInfo:
    info = method_info(method_id)
    if info is None:
        known = ", ".join(sorted(m.id for m in methods()))
        raise ValidationFailed(f"Unknown counting method {method_id!r}; choose one of: {known}.", field="method")
    if ballot_type not in info.ballot_types:
        fits = ", ".join(m.id for m in methods() if ballot_type in m.ballot_types)
        raise ValidationFailed(f"Method {method_id!r} cannot count {ballot_type} ballots; for {ballot_type} "
                               f"ballots choose one of: {fits}.", field="method")
    if info.slate and not 1 <= seats < n_candidates:
        raise ValidationFailed(f"Method {method_id!r} picks a slate: seats must be between 1 and "
                               f"{n_candidates - 1} (fewer than the candidates).", field="seats")
    if not info.slate and seats != 1:
        raise ValidationFailed(f"Method {method_id!r} elects one winner (or a tie); seats must be 1.",
                               field="seats")
    return info


def dry_run(spec: PollSpec) -> None:
    """Count one sample ballot so a method that refuses this poll (e.g. Kemeny above its size limit)
    is refused when the poll is set up, not when its ballots are already in."""
    first, top = spec.candidates[0], spec.grade_scale[-1]
    sample = {"yesno": {"choice": "yes"}, "approval": {"approve": [first]}, "ranked": {"ranking": [first]},
              "score": {"scores": {first: spec.score_max}}, "grades": {"grades": {first: top}}}[spec.ballot_type]
    try:
        profile = voting.parse_ballots([sample], **spec.parse_options())
        info = method_info(spec.method)
        voting.tally(spec.method, profile, seats=spec.seats if info is not None and info.slate else None)
    except VotingError as exc:
        raise ValidationFailed(f"Method {spec.method!r} cannot count this poll: {exc.message}.",
                               field="method") from None


def _field(exc: BallotError, key: str) -> str:
    return f"ballot.{exc.field}" if exc.field else f"ballot.{key}"


def validate_ballot(spec: PollSpec, content: object) -> dict[str, Any]:
    """Check one ballot against the poll; return it in the exact CLI line format.

    Raises ValidationFailed naming the field (``ballot.ranking``, ``ballot.scores.a`` …).
    """
    if not isinstance(content, dict):
        raise ValidationFailed(f"The ballot must be a JSON object like {{\"{spec.key}\": …}}.", field="ballot")
    if set(content) != {spec.key}:
        extra = sorted(set(content) - {spec.key})
        if extra:
            raise ValidationFailed(f"Unknown field {extra[0]!r}: a {spec.ballot_type} ballot has only "
                                   f"{spec.key!r}.", field=f"ballot.{extra[0]}")
        raise ValidationFailed(f"A {spec.ballot_type} ballot needs the field {spec.key!r}.",
                               field=f"ballot.{spec.key}")
    try:
        voting.parse_ballots([content], **spec.parse_options())
    except BallotError as exc:
        raise ValidationFailed(_ballot_message(exc), field=_field(exc, spec.key)) from None
    except VotingError as exc:
        raise ValidationFailed(exc.message, field="ballot") from None
    # Round-trip through JSON so what is stored is exactly what the export prints.
    return dict(json.loads(json.dumps({spec.key: content[spec.key]}, ensure_ascii=False)))


def _ballot_message(exc: BallotError) -> str:
    reason = exc.reason
    return reason[0].upper() + reason[1:] + "."


def count(spec: PollSpec, contents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Count the ballots with the poll's method: ``{"method","winners","ranking","scores","tied",…}``."""
    if not contents:
        raise Conflict("No ballots were cast, so there is nothing to count.", field="ballots")
    try:
        profile = voting.parse_ballots(list(contents), **spec.parse_options())
        info = method_info(spec.method)
        seats = spec.seats if info is not None and info.slate else None
        return voting.tally(spec.method, profile, seats=seats).to_dict()
    except BallotError as exc:
        raise ValidationFailed(f"Stored ballot {exc.line} is invalid: {exc.reason}.", field="ballots") from None
    except VotingError as exc:
        raise ValidationFailed(exc.message, field="method") from None


def cli_args(spec: PollSpec) -> list[str]:
    """Arguments to ``python -m voting tally`` that recompute this poll from its ballot export."""
    args = ["tally", "--method", spec.method]
    if spec.ballot_type != "yesno":
        args += ["--candidates", ",".join(spec.candidates)]
    info = method_info(spec.method)
    if info is not None and info.slate:
        args += ["--seats", str(spec.seats)]
    if spec.ballot_type == "score":
        args += ["--score-range", f"{spec.score_min}:{spec.score_max}"]
    if spec.ballot_type == "grades":
        args += ["--grades", ",".join(spec.grade_scale)]
    return args + ["--json"]


def export_lines(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> str:
    """JSON lines in the CLI's ballot format; ``receipt`` (a hash) is a field the library ignores."""
    return "".join(json.dumps({**content, "receipt": receipt}, ensure_ascii=False, sort_keys=True) + "\n"
                   for receipt, content in rows)


MIN_GROUP = 5  # groups with fewer ballots are suppressed in results and exports
BOOTSTRAP_REPLICATES = 2000
CI_LEVEL = 0.95
PREFERRED_FEATURE = "region"

Rows = Sequence[tuple[Mapping[str, Any], Mapping[str, str]]]


def support_options(spec: PollSpec) -> tuple[str, ...]:
    """The options support is measured for: the candidates, or just "yes" on a yes/no poll."""
    return ("yes",) if spec.ballot_type == "yesno" else spec.candidates


def ballot_support(spec: PollSpec, content: Mapping[str, Any]) -> list[float] | None:
    """One ballot's support for each option, in [0, 1]; None for an abstention (left out).

    yes/no: yes = 1, no = 0. Approval: approved = 1. Score: (score − min) / (max − min), unscored = 0.
    Grades: grade position on the scale / (grades − 1), ungraded = 0. Ranked: share of the other
    options ranked strictly below it (1 = top alone, 0 = last or unranked).
    """
    value = content[spec.key]
    cands = spec.candidates
    if spec.ballot_type == "yesno":
        return None if value == "abstain" else [1.0 if value == "yes" else 0.0]
    if spec.ballot_type == "approval":
        approved = set(value)
        return [1.0 if c in approved else 0.0 for c in cands]
    if spec.ballot_type == "score":
        span = spec.score_max - spec.score_min
        return [(value[c] - spec.score_min) / span if c in value else 0.0 for c in cands]
    if spec.ballot_type == "grades":
        index = {g: i for i, g in enumerate(spec.grade_scale)}
        top = len(spec.grade_scale) - 1
        return [index[value[c]] / top if c in value else 0.0 for c in cands]
    tier = {}
    for t, entry in enumerate(value):
        for name in [entry] if isinstance(entry, str) else entry:
            tier[name] = t
    bottom = len(value)
    ranks = [tier.get(c, bottom) for c in cands]
    m = len(cands)
    return [sum(1 for other in ranks if other > r) / (m - 1) for r in ranks]


def _groups_of(rows: Rows) -> dict[str, list[str | None]]:
    features = sorted({f for _, strata in rows for f in strata})
    return {f: [strata.get(f) for _, strata in rows] for f in features}


def group_counts(spec: PollSpec, rows: Rows) -> dict[str, dict[str, dict[str, Any]]]:
    """Feature → value → that group's count and support (groups under MIN_GROUP suppressed)."""
    from voting.aggregate import group_results, group_support

    options = support_options(spec)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for feature, labels in _groups_of(rows).items():
        keep = [i for i, g in enumerate(labels) if g is not None]
        contents = [rows[i][0] for i in keep]
        groups = [str(labels[i]) for i in keep]
        info = method_info(spec.method)
        try:
            grouped = group_results(spec.method, contents, groups, seats=spec.seats if info and info.slate else None,
                                    **spec.parse_options())
        except VotingError as exc:
            raise ValidationFailed(exc.message, field="ballots") from None
        supported = [(ballot_support(spec, c), g) for c, g in zip(contents, groups, strict=True)]
        supported = [(s, g) for s, g in supported if s is not None]
        table = group_support([s for s, _ in supported], [g for _, g in supported], options).to_dict() \
            if supported else {"groups": {}}
        out[feature] = {}
        for value, size in grouped.sizes.items():
            if size < MIN_GROUP:
                out[feature][value] = {"ballots": None, "suppressed": True}
                continue
            res = grouped.groups[value].to_dict()
            out[feature][value] = {"ballots": size, "suppressed": False, "winners": res["winners"],
                                   "ranking": res["ranking"], "scores": res["scores"],
                                   "support": table["groups"].get(value, {}).get("support", {})}
    return out


def main_feature(features: Iterable[str], shares: Mapping[str, Mapping[str, float]]) -> str | None:
    names = [f for f in features if f in shares]
    if not names:
        return None
    return PREFERRED_FEATURE if PREFERRED_FEATURE in names else names[0]


def weighted(spec: PollSpec, rows: Rows, shares: Mapping[str, Mapping[str, float]], seed: int) -> dict[str, Any]:
    """Population-weighted support per option with bootstrap intervals, for each feature with shares."""
    from voting.stats import weighted_support

    options = support_options(spec)
    by_feature: dict[str, dict[str, Any]] = {}
    for feature, labels in _groups_of(rows).items():
        if feature not in shares:
            continue
        pairs = [(ballot_support(spec, c), str(g)) for (c, _), g in zip(rows, labels, strict=True)
                 if g is not None and str(g) in shares[feature]]
        pairs = [(s, g) for s, g in pairs if s is not None]
        if len(pairs) < MIN_GROUP:
            continue
        strata = [g for _, g in pairs]
        support: dict[str, Any] = {}
        try:
            for j, option in enumerate(options):
                ws = weighted_support([s[j] for s, _ in pairs], strata, shares[feature], level=CI_LEVEL,
                                      replicates=BOOTSTRAP_REPLICATES, seed=seed)
                support[option] = {"estimate": ws.estimate, "low": ws.low, "high": ws.high, "raw": ws.raw}
        except VotingError as exc:
            raise ValidationFailed(exc.message, field="population_shares") from None
        by_feature[feature] = {"support": support, "ballots": len(pairs), "weights": ws.weights,
                               "missing_strata": list(ws.missing_strata)}
    feature = main_feature(by_feature, shares)
    if feature is None:
        return {}
    return {"feature": feature, "level": CI_LEVEL, "replicates": BOOTSTRAP_REPLICATES, "seed": seed,
            "support": by_feature[feature]["support"], "by_feature": by_feature}


def bridging(spec: PollSpec, rows: Rows, shares: Mapping[str, Mapping[str, float]], seed: int) -> dict[str, Any]:
    """Pol.is group-aware consensus across each feature's groups, and the matrix-factorisation score.

    A ballot's support above ½ counts as agree, below ½ as disagree, exactly ½ as pass. Voters in
    groups smaller than MIN_GROUP are left out of the group-aware score (their group is not shown).
    """
    from voting.bridging import bridging_scores, group_aware_consensus

    options = support_options(spec)
    votes: list[tuple[str, str, str]] = []
    for i, (content, _) in enumerate(rows):
        values = ballot_support(spec, content)
        if values is None:
            continue
        for option, v in zip(options, values, strict=True):
            votes.append((str(i), option, "agree" if v > 0.5 else "disagree" if v < 0.5 else "pass"))
    if not votes:
        return {}
    by_feature: dict[str, dict[str, float]] = {}
    for feature, labels in _groups_of(rows).items():
        sizes: dict[str, int] = {}
        for g in labels:
            if g is not None:
                sizes[str(g)] = sizes.get(str(g), 0) + 1
        groups = {str(i): str(g) for i, g in enumerate(labels) if g is not None and sizes[str(g)] >= MIN_GROUP}
        if len(set(groups.values())) >= 2:
            by_feature[feature] = group_aware_consensus(votes, groups)
    mf = {k: {"intercept": v.intercept, "factor": v.factor, "raters": v.raters, "agree_share": v.agree_share,
              "bridging": v.bridging} for k, v in bridging_scores(votes, seed=seed).items()}
    feature = main_feature(by_feature, shares) or next(iter(by_feature), None)
    return {"feature": feature, "consensus": by_feature.get(feature, {}) if feature else {},
            "by_feature": by_feature, "matrix_factorisation": mf}


def minority(spec: PollSpec, rows: Rows) -> list[dict[str, Any]]:
    """Options without majority support overall but with at least 60% support in a group of 5 or more."""
    from voting.aggregate import group_support, minority_positions

    options = support_options(spec)
    out: list[dict[str, Any]] = []
    for feature, labels in _groups_of(rows).items():
        pairs = [(ballot_support(spec, c), str(g)) for (c, _), g in zip(rows, labels, strict=True) if g is not None]
        pairs = [(s, g) for s, g in pairs if s is not None]
        if not pairs:
            continue
        table = group_support([s for s, _ in pairs], [g for _, g in pairs], options)
        for pos in minority_positions(table, min_group_size=MIN_GROUP):
            out.append({"option": pos.option, "feature": feature, "group": pos.group,
                        "group_support": pos.group_support, "overall_support": pos.overall_support,
                        "group_size": pos.group_size})
    return sorted(out, key=lambda m: (-m["group_support"], m["option"], m["feature"], m["group"]))


def yes_no_thresholds(contents: Sequence[Mapping[str, Any]], eligible: int) -> dict[str, Any] | None:
    """Quorum (half the eligible members vote) and simple majority (more yes than no), exactly."""
    from voting.aggregate import thresholds

    counts = {c: sum(1 for b in contents if b.get("choice") == c) for c in YESNO_CANDIDATES}
    if eligible < sum(counts.values()) or eligible <= 0:
        return None
    try:
        return thresholds(counts["yes"], counts["no"], counts["abstain"], eligible=eligible).to_dict()
    except VotingError:
        return None


def full_result(spec: PollSpec, rows: Rows, shares: Mapping[str, Mapping[str, float]], *,
                seed: int = 0, eligible: int | None = None) -> dict[str, Any]:
    """Everything stored in ``Poll.result`` that comes from the library (see docs/voting-app.md)."""
    result = count(spec, [content for content, _ in rows])
    supported = [s for s in (ballot_support(spec, c) for c, _ in rows) if s is not None]
    options = support_options(spec)
    result["support"] = ({o: sum(s[j] for s in supported) / len(supported) for j, o in enumerate(options)}
                         if supported else {})
    result["groups"] = group_counts(spec, rows)
    result["weighted"] = weighted(spec, rows, shares, seed)
    result["bridging"] = bridging(spec, rows, shares, seed)
    result["minority"] = minority(spec, rows)
    if spec.ballot_type == "yesno" and eligible is not None:
        result["thresholds"] = yes_no_thresholds([c for c, _ in rows], eligible)
    return result
