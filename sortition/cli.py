"""``python -m sortition select | verify | quotas | replace`` (exit 0 ok, 2 bad input or infeasible)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sortition.algorithms import ALGORITHMS, DEFAULT_ALGORITHM
from sortition.csvio import parse_categories, parse_people, write_categories
from sortition.errors import BadDataError, SortitionError
from sortition.lottery import DEFAULT_LOTTERY_SIZE, run_lottery, verify_transcript
from sortition.quotas import parse_shares, quotas_from_shares
from sortition.replace import draw_replacements
from sortition.types import Pool

EXIT_BAD_INPUT = 2


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise BadDataError(f"cannot read {path}: {exc.strerror}", code="unreadable_file", file=path) from None


def _columns(text: str | None) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()] if text else []


def _load_pool(args: argparse.Namespace, address_columns: Sequence[str]) -> Pool:
    cats = parse_categories(_read(args.categories), file=args.categories)
    return parse_people(
        _read(args.people), cats, id_column=args.id_column, address_columns=address_columns, file=args.people
    )


def _emit(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


def _select(args: argparse.Namespace) -> int:
    address_columns = _columns(args.address_columns)
    pool = _load_pool(args, address_columns)
    result = run_lottery(pool, args.size, algorithm=args.algorithm, seed=args.seed, lottery_size=args.lottery_size)
    summary = result.summary()
    summary["address_columns"] = address_columns
    if args.transcript:
        transcript = result.transcript() | {"address_columns": address_columns, "id_column": args.id_column}
        Path(args.transcript).write_text(json.dumps(transcript, ensure_ascii=False, indent=1), encoding="utf-8")
    _emit(summary)
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        transcript = json.loads(_read(args.transcript).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadDataError(f"transcript is not JSON: {exc}", code="bad_transcript", file=args.transcript) from None
    if not isinstance(transcript, dict) or "lottery" not in transcript:
        raise BadDataError(
            "transcript has no lottery (write one with select --transcript)", code="bad_transcript", file=args.transcript
        )
    address_columns = _columns(args.address_columns) if args.address_columns else transcript.get("address_columns", [])
    if args.id_column is None:
        args.id_column = transcript.get("id_column")
    pool = _load_pool(args, address_columns)
    problems = verify_transcript(pool, transcript, args.seed)
    report = {"verified": not problems, "problems": problems, "ticket": transcript.get("ticket")}
    if args.json:
        _emit(report)
    else:
        sys.stdout.write("verified: the published panel follows from these files and seed\n" if not problems else "")
    for problem in problems:
        sys.stderr.write(f"mismatch: {problem}\n")
    return 0 if not problems else EXIT_BAD_INPUT


def _quotas(args: argparse.Namespace) -> int:
    shares, nested = parse_shares(_read(args.shares), file=args.shares)
    quotas = quotas_from_shares(shares, args.size, tolerance=args.tolerance, nested=nested)
    if args.json:
        _emit({"quotas": [{"feature": q.feature, "value": q.value, "min": q.min, "max": q.max} for q in quotas]})
    else:
        sys.stdout.write(write_categories(quotas))
    return 0


def _replace(args: argparse.Namespace) -> int:
    address_columns = _columns(args.address_columns)
    pool = _load_pool(args, address_columns)
    result = draw_replacements(
        pool, _columns(args.selected), _columns(args.declined), seed=args.seed, algorithm=args.algorithm
    )
    _emit(result.summary() | {"replacements": list(result.panel)})
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sortition", description="Fair, replayable panel selection.")
    sub = parser.add_subparsers(dest="command", required=True)

    def files(p: argparse.ArgumentParser) -> None:
        p.add_argument("--people", required=True, help="people CSV (sortition-algorithms format)")
        p.add_argument("--categories", required=True, help="categories CSV: feature,value,min,max")
        p.add_argument("--id-column", default=None, help="id column (default: id, else nationbuilder_id)")
        p.add_argument("--address-columns", default=None, help="comma-separated household columns")
        p.add_argument("--json", action="store_true", help="errors as JSON on stdout too")

    sel = sub.add_parser("select", help="run a lottery and print the JSON result")
    files(sel)
    sel.add_argument("--size", type=int, required=True)
    sel.add_argument("--algorithm", choices=ALGORITHMS, default=DEFAULT_ALGORITHM)
    sel.add_argument("--seed", default="", help="public seed string announced before the draw")
    sel.add_argument("--lottery-size", type=int, default=DEFAULT_LOTTERY_SIZE)
    sel.add_argument("--transcript", help="write the publishable transcript (with the full lottery) here")
    sel.set_defaults(run=_select)

    ver = sub.add_parser("verify", help="replay a published lottery transcript")
    files(ver)
    ver.add_argument("--transcript", required=True)
    ver.add_argument("--seed", default=None, help="seed to check (default: the transcript's)")
    ver.set_defaults(run=_verify)

    quo = sub.add_parser("quotas", help="categories CSV from population shares")
    quo.add_argument("--shares", required=True, help="CSV feature,value,share[,parent_feature,parent_value]")
    quo.add_argument("--size", type=int, required=True)
    quo.add_argument("--tolerance", type=float, default=1, help="seats either side (or a fraction < 1)")
    quo.add_argument("--json", action="store_true")
    quo.set_defaults(run=_quotas)

    rep = sub.add_parser("replace", help="draw replacements for decliners")
    files(rep)
    rep.add_argument("--selected", required=True, help="comma-separated ids of the drawn panel")
    rep.add_argument("--declined", required=True, help="comma-separated ids of those who declined")
    rep.add_argument("--algorithm", choices=ALGORITHMS, default=DEFAULT_ALGORITHM)
    rep.add_argument("--seed", default="")
    rep.set_defaults(run=_replace)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except SortitionError as exc:
        sys.stderr.write(f"error: {exc}\n")
        if getattr(args, "json", False):
            _emit(exc.to_dict())
        return EXIT_BAD_INPUT
    except Exception as exc:  # never show a traceback to the user; say it is our bug
        sys.stderr.write(f"internal error ({type(exc).__name__}): {exc}\n")
        return 1
