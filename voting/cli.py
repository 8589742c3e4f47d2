"""Command line: ``python -m voting tally …`` and ``python -m voting methods``.

Exit status: 0 on success, 2 on bad input (bad ballot with its line number, unknown method,
bad option), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from .ballots import DEFAULT_GRADE_SCALE
from .errors import VotingError
from .jsonl import read_ballots_file
from .registry import methods, tally


def _score_range(text: str) -> tuple[int, int]:
    try:
        low, high = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected MIN:MAX, e.g. 0:5") from None
    if low >= high:
        raise argparse.ArgumentTypeError("MIN must be below MAX")
    return low, high


def _names(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError("empty name in the list")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m voting", description="Count ballots.")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("tally", help="count a JSON-lines ballot file")
    t.add_argument("--ballots", required=True, help="JSON-lines file, one ballot per line ('-' = stdin)")
    t.add_argument("--method", required=True, help="rule id (see 'python -m voting methods')")
    t.add_argument("--seats", type=int, default=None, help="committee size for slate rules")
    t.add_argument("--score-range", type=_score_range, default=(0, 5), help="score range MIN:MAX (default 0:5)")
    t.add_argument("--grades", type=_names, default=list(DEFAULT_GRADE_SCALE),
                   help="grade scale, worst first, comma-separated")
    t.add_argument("--candidates", type=_names, default=None, help="allowed candidates a,b,c (default: as found)")
    t.add_argument("--tiebreak-seed", type=int, default=None, help="draw among tied winners with this seed")
    t.add_argument("--json", action="store_true", help="print JSON (default: a readable summary)")
    sub.add_parser("methods", help="list the rule ids")
    return parser


def _human(result: dict[str, Any]) -> str:
    lines = [f"method:  {result['method']}", f"winners: {', '.join(result['winners'])}"]
    if result.get("tied"):
        lines.append("TIE between the winners above" + (" (see tiebreak)" if "tiebreak" in result else ""))
    if "tiebreak" in result:
        tb = result["tiebreak"]
        lines.append(f"tie-break (seed {tb['seed']}): {tb['chosen']}")
    if "committees" in result:
        for com in result["committees"]:
            lines.append(f"committee: {', '.join(com)}")
    for i, tier in enumerate(result["ranking"], 1):
        lines.append(f"{i:>3}. {' = '.join(tier)}")
    if result["scores"]:
        lines.append("scores:  " + ", ".join(f"{k}={v}" for k, v in result["scores"].items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command == "methods":
        for rule in methods().values():
            print(f"{rule.id:<18} {'slate ' if rule.slate else ''}{'/'.join(rule.kinds):<14} {rule.summary}")
        return 0
    try:
        source = "/dev/stdin" if args.ballots == "-" else args.ballots
        profile = read_ballots_file(
            source, candidates=args.candidates, score_range=args.score_range, grade_scale=args.grades
        )
        result = tally(args.method, profile, seats=args.seats, tiebreak_seed=args.tiebreak_seed).to_dict()
    except VotingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read ballots: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False) if args.json else _human(result))
    return 0
