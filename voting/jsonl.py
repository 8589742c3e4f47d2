"""JSON-lines ballot files: a vectorised fast path, else deduplicate raw lines and decode each once.

Text in the canonical shapes goes through :mod:`voting.fastjsonl` (numpy over the raw bytes); it
hands every unusual case back here, so results and errors are those of the path below.

Identical raw lines are counted with a ``Counter`` *before* JSON decoding: the counting works on
the aggregated profile anyway, so a million identical lines cost one ``json.loads``.  The first
bad line (in file order) is reported even though lines are deduplicated.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .ballots import DEFAULT_GRADE_SCALE, DEFAULT_SCORE_RANGE, _encode, _gc_paused
from .errors import BallotError
from .fastjsonl import fast_profile
from .profiles import Profile


class _DuplicateKey(ValueError):
    pass


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_hook)
_PLAIN = json.JSONDecoder()


def parse_jsonl(
    text: str | Iterable[str],
    *,
    candidates: Sequence[str] | None = None,
    score_range: tuple[int, int] = DEFAULT_SCORE_RANGE,
    grade_scale: Sequence[str] = DEFAULT_GRADE_SCALE,
    kind: str | None = None,
) -> Profile:
    """Build a profile from JSON lines (a string or an iterable of lines); blank lines are skipped.

    Raises:
        BallotError: with ``line`` = 1-based line number and ``field``.
    """
    with _gc_paused():
        if isinstance(text, str) and _fast_allowed(candidates, score_range, grade_scale):
            profile = _fast(text, None if candidates is None else tuple(candidates), score_range, kind,
                            tuple(grade_scale))
            if profile is not None:
                return profile
        return _parse_lines(text, candidates, score_range, tuple(grade_scale), kind)


def _fast(text: str, candidates: tuple[str, ...] | None, score_range: tuple[int, int], kind: str | None,
          grade_scale: tuple[str, ...] | None = None) -> Profile | None:
    """The vectorised path; on files with many repeated lines (judged on the first ~200 kB), the lines
    are counted first (cheap C-level hashing) and only the distinct ones are tokenised, weighted."""
    sample = text[:200_000].split("\n")[:-1]
    if len(sample) >= 50 and len(set(sample)) < 0.95 * len(sample):
        counts: Counter[str] = Counter(map(str.strip, text.splitlines()))
        counts.pop("", None)
        weights = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
        return fast_profile("\n".join(counts), candidates, score_range, kind, _DECODER.decode, weights,
                            grade_scale=grade_scale)
    return fast_profile(text, candidates, score_range, kind, _DECODER.decode, grade_scale=grade_scale)


def _fast_allowed(candidates: Sequence[str] | None, score_range: tuple[int, int], grade_scale: Sequence[str]) -> bool:
    """The vectorised path runs only with valid options: option errors come from the slow path."""
    if candidates is not None and (len(set(candidates)) != len(candidates)
                                   or not all(isinstance(c, str) for c in candidates)):
        return False
    scale = tuple(grade_scale)
    return score_range[0] < score_range[1] and bool(scale) and len(set(scale)) == len(scale)


def _parse_lines(
    text: str | Iterable[str],
    candidates: Sequence[str] | None,
    score_range: tuple[int, int],
    grade_scale: tuple[str, ...],
    kind: str | None,
) -> Profile:
    lines = text.splitlines() if isinstance(text, str) else [line.rstrip("\r\n") for line in text]
    counts: Counter[str] = Counter(map(str.strip, lines))
    counts.pop("", None)
    uniq = list(counts)
    weights = np.fromiter(counts.values(), dtype=np.int64, count=len(uniq))
    first_line: dict[str, int] = {}

    def line_of(u: int) -> int:
        # Only needed to report an error: one scan of the lines, done lazily.
        if not first_line:
            for i, raw in enumerate(lines):
                first_line.setdefault(raw.strip(), i + 1)
        return first_line[uniq[u]]

    items = _decode_all(uniq, line_of)
    return _encode(items, weights, line_of, candidates, score_range, grade_scale, kind)


def read_ballots_file(path: str | Path, **options: Any) -> Profile:
    """Read a JSON-lines ballot file; see :func:`parse_jsonl` for the options."""
    with open(path, encoding="utf-8") as fh:
        return parse_jsonl(fh.read(), **options)


def _decode_all(uniq: list[str], line_of: Any) -> list[Any]:
    # One json.loads over the joined lines is much cheaper than one call per line; if it fails or a
    # line holds more than one value, decode line by line to name the offending line.
    try:
        items = _PLAIN.decode("[" + ",".join(uniq) + "]") if uniq else []
        if isinstance(items, list) and len(items) == len(uniq):
            if uniq and ('"scores"' in uniq[0] or '"grades"' in uniq[0]):
                _check_duplicate_keys(uniq, items, line_of)
            return items
    except (ValueError, RecursionError):
        pass
    out: list[Any] = []
    for u, s in enumerate(uniq):
        try:
            out.append(_DECODER.decode(s))
        except _DuplicateKey as exc:
            raise BallotError(f"duplicate key {exc.args[0]!r} in ballot", line_of(u), str(exc.args[0])) from None
        except (ValueError, RecursionError) as exc:
            raise BallotError(f"malformed JSON ({exc})", line_of(u)) from None
    return out


def _check_duplicate_keys(uniq: list[str], items: list[Any], line_of: Any) -> None:
    """json.loads silently keeps the last of duplicate keys ({"a": 1, "a": 5}); catch that.

    Cheap screen: a line has as many ``":`` as keys unless it repeats a key (or has unusual
    spacing / quotes inside names); only lines failing the screen are re-decoded strictly.
    """
    for u, (line, item) in enumerate(zip(uniq, items, strict=False)):
        keys = len(item) if type(item) is dict else 0
        if keys:
            for value in item.values():
                if type(value) is dict:
                    keys += len(value)
        if line.count('":') != keys:
            try:
                _DECODER.decode(line)
            except _DuplicateKey as exc:
                raise BallotError(f"duplicate key {exc.args[0]!r} in ballot", line_of(u), str(exc.args[0])) from None
