"""Pnyx voting: ballots, tallies, aggregation and statistics (numpy/scipy/stdlib only).

Public API::

    profile = parse_ballots([{"ranking": ["a", ["b", "c"]]}, ...], candidates=None)
    profile = parse_jsonl(text)                      # JSON lines; errors name the line
    result = tally("schulze", profile)               # TallyResult; result.to_dict() for JSON
    result = tally("pav", approval_profile, seats=3, tiebreak_seed=42)
"""

from . import rules  # noqa: F401  (importing the rules fills RULES)
from .ballots import DEFAULT_GRADE_SCALE, DEFAULT_SCORE_RANGE, parse_ballots
from .errors import BallotError, MethodInputError, TooLargeError, UnknownMethodError, VotingError
from .jsonl import parse_jsonl, read_ballots_file
from .profiles import ApprovalProfile, ChoiceProfile, GradeProfile, Profile, RankedProfile, ScoreProfile
from .registry import RULES, Rule, methods, tally
from .results import TallyResult, TieBreak

__all__ = [
    "DEFAULT_GRADE_SCALE",
    "DEFAULT_SCORE_RANGE",
    "RULES",
    "ApprovalProfile",
    "BallotError",
    "ChoiceProfile",
    "GradeProfile",
    "MethodInputError",
    "Profile",
    "RankedProfile",
    "Rule",
    "ScoreProfile",
    "TallyResult",
    "TieBreak",
    "TooLargeError",
    "UnknownMethodError",
    "VotingError",
    "methods",
    "parse_ballots",
    "parse_jsonl",
    "read_ballots_file",
    "tally",
]
