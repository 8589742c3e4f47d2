"""The fixed-width score fast path (``voting.fastjsonl.fixed_width_scores``) agrees with the json path.

Files of complete score ballots written by ``json.dumps`` (same candidates in the same order,
one-digit scores) take a template path: the first line is the template, every other line must be
byte-identical except for the score digits.  Each check parses the text with ``parse_jsonl`` and
with the json path alone and compares profiles array by array, or errors (message, line, field).
Lines are mutated in every way that keeps or changes the line width: out-of-range digits, letters
or quotes in a score place, negative numbers, floats, another key order, odd whitespace, escaped
and unicode names, duplicate and unknown candidates, empty ballots, malformed JSON, other types.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from voting import parse_jsonl
from voting.fastjsonl import fast_profile, fixed_width_scores
from voting.jsonl import _DECODER

from .test_fastjsonl import NAMES, _profile_arrays, assert_same

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MUTATIONS = ["digit", "digit", "letter", "quote", "negative", "float", "two-digit", "order", "space", "tab",
             "duplicate", "rename", "drop", "empty", "truncate", "escape", "extra", "blank", "other-type", "crlf"]


def _line(names: list[str], values: list[Any], seps: tuple[str, str], ascii_only: bool) -> str:
    """A score ballot as json.dumps writes it, values preformatted (so any text can stand in a score place)."""
    sep, colon = seps
    body = sep.join(json.dumps(n, ensure_ascii=ascii_only) + colon + str(v) for n, v in zip(names, values, strict=True))
    return '{"scores"' + colon + "{" + body + "}}"


def _mutate(draw: st.DrawFn, kind: str, names: list[str], values: list[int], seps: tuple[str, str],
            ascii_only: bool) -> str:
    j = draw(st.integers(0, len(names) - 1))
    vals: list[Any] = list(values)
    nm = list(names)
    if kind == "digit":  # same width: 6..9 (out of range for most ranges) or any digit
        vals[j] = draw(st.integers(0, 9))
    elif kind == "letter":
        vals[j] = draw(st.sampled_from(["x", "t", "e", "-", "+", " "]))
    elif kind == "quote":
        vals[j] = draw(st.sampled_from(['"', "}", ",", "]"]))
    elif kind == "negative":
        vals[j] = draw(st.sampled_from([-1, -0, -5]))
        if vals[j] == 0:
            vals[j] = "-0"
    elif kind == "float":
        vals[j] = draw(st.sampled_from(["4.0", "1e0", "0.5", "3E0"]))
    elif kind == "two-digit":
        vals[j] = draw(st.sampled_from(["10", "05", "00"]))
    elif kind == "order":
        order = draw(st.permutations(range(len(names))))
        nm, vals = [names[i] for i in order], [values[i] for i in order]
    elif kind == "space":
        line = _line(nm, vals, seps, ascii_only)
        at = draw(st.integers(0, len(line)))
        return line[:at] + " " + line[at:]
    elif kind == "tab":
        return "\t" + _line(nm, vals, seps, ascii_only)
    elif kind == "duplicate" and len(names) >= 2:
        nm[j] = names[(j + 1) % len(names)]
    elif kind == "rename":
        nm[j] = draw(st.sampled_from(NAMES))
    elif kind == "drop" and len(names) >= 2:
        del nm[j], vals[j]
    elif kind == "empty":
        return '{"scores"' + seps[1] + "{}}"
    elif kind == "truncate":
        line = _line(nm, vals, seps, ascii_only)
        return line[: draw(st.integers(0, len(line) - 1))]
    elif kind == "escape":  # the same name written with \\u escapes: other bytes, same ballot
        sep, colon = seps
        escaped = ["".join(f"\\u{ord(ch):04x}" for ch in n) if i == j else json.dumps(n)[1:-1]
                   for i, n in enumerate(nm)]
        return '{"scores"' + colon + "{" + sep.join(f'"{e}"' + colon + str(v) for e, v in zip(escaped, vals,
                                                                                              strict=True)) + "}}"
    elif kind == "extra":
        return '{"id"' + seps[1] + '"r1"' + seps[0] + _line(nm, vals, seps, ascii_only)[1:]
    elif kind == "blank":
        return ""
    elif kind == "other-type":
        return json.dumps({"ranking": names[:1]})
    elif kind == "crlf":
        return _line(nm, vals, seps, ascii_only) + "\r"
    return _line(nm, vals, seps, ascii_only)


@st.composite
def fixed_width_file(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    """(text, options, pristine): pristine files are in the fixed shape with valid options."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=8, unique=True))
    seps = draw(st.sampled_from([(", ", ": "), (",", ":")]))
    ascii_only = draw(st.integers(0, 4)) > 0
    top = draw(st.sampled_from([5, 5, 9, 3]))
    rows = [[draw(st.integers(0, top)) for _ in names] for _ in range(draw(st.integers(1, 40)))]
    lines = [_line(names, r, seps, ascii_only) for r in rows]
    mutations = draw(st.integers(0, 3)) if draw(st.booleans()) else 0
    for _ in range(mutations):
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = _mutate(draw, draw(st.sampled_from(MUTATIONS)), names, rows[i], seps, ascii_only)
    end = draw(st.sampled_from(["", "\n", "\n", "\n\n", "\r\n"]))
    options: dict[str, Any] = {"score_range": draw(st.sampled_from([(0, 5), (0, 5), (0, 9), (1, 5), (-1, 3), (0, 10)]))}
    if draw(st.integers(0, 3)) == 0:
        extra = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))  # the caller checks the list
        options["candidates"] = sorted(set(names) | set(extra)) if draw(st.booleans()) else extra or names[:1]
    if draw(st.integers(0, 7)) == 0:
        options["kind"] = draw(st.sampled_from(["score", "ranked", "grades"]))
    pristine = (mutations == 0 and ascii_only and end in ("", "\n") and options["score_range"][0] <= 0
                and max(map(max, rows)) <= options["score_range"][1]
                and set(names) <= set(options.get("candidates", names)) and options.get("kind", "score") == "score")
    return "\n".join(lines) + end, options, pristine


@SETTINGS
@given(fixed_width_file())
def test_fixed_width_files_same_profile_or_same_error(case: tuple[str, dict[str, Any], bool]) -> None:
    text, options, pristine = case
    status, _ = assert_same(text, **options)
    cands = options.get("candidates")
    fixed = None
    if options.get("kind", "score") == "score":  # fast_profile tries the template path only then
        fixed = fixed_width_scores(text, None if cands is None else tuple(cands), options["score_range"],
                                   _DECODER.decode)
    event(f"{status}, template path {'answered' if fixed is not None else 'declined'}")
    if pristine:
        assert status == "ok" and fixed is not None
    if fixed is not None:  # whenever the template path answers, it is the json path's answer
        assert status == "ok"
        assert ("ok", _profile_arrays(fixed)) == assert_same(text, **options)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fixed_width_file(), st.integers(1, 400))
def test_fixed_width_pieces_same_result(case: tuple[str, dict[str, Any], bool], piece: int) -> None:
    """Any piece size (whole lines per piece) gives the one-piece result."""
    text, options, _ = case
    cands = options.get("candidates")
    cands = None if cands is None else tuple(cands)
    whole = fixed_width_scores(text, cands, options["score_range"], _DECODER.decode)
    pieces = fixed_width_scores(text, cands, options["score_range"], _DECODER.decode, piece_chars=piece)
    assert (whole is None) == (pieces is None)
    if whole is not None and pieces is not None:
        assert _profile_arrays(whole) == _profile_arrays(pieces)


def _bench_like(n: int, m: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    names = [f"option-{i + 1:02d}" for i in range(m)]
    return [json.dumps({"scores": dict(zip(names, row, strict=True))}) for row in rng.integers(0, 6, (n, m)).tolist()]


def test_large_file_takes_the_template_path_and_agrees() -> None:
    text = "\n".join(_bench_like(5000, 12, 1))
    fixed = fixed_width_scores(text, None, (0, 5), _DECODER.decode, piece_chars=1000)
    assert fixed is not None and fixed.num_voters == 5000
    assert assert_same(text) == ("ok", _profile_arrays(fixed))


def test_repeated_lines_are_weighted() -> None:
    # Many identical lines: parse_jsonl counts lines first, then the template path gets weights.
    lines = _bench_like(3000, 3, 2)
    assert len(set(lines)) < 0.95 * len(lines)
    status, detail = assert_same("\n".join(lines) + "\n")
    assert status == "ok" and sum(detail["weights"]) == 3000 and len(detail["weights"]) == len(set(lines))
    text = "\n".join(dict.fromkeys(lines))
    weights = np.arange(1, text.count("\n") + 2, dtype=np.int64)
    fixed = fixed_width_scores(text, None, (0, 5), _DECODER.decode, weights)
    assert fixed is not None and fixed.num_voters == int(weights.sum())


@pytest.mark.parametrize(
    ("mutate", "line", "message", "field"),
    [
        (lambda s: s.replace('"option-03": 2', '"option-03": 7'), 4322, "score 7 for 'option-03' is not an integer "
         "in 0..5", "scores.option-03"),
        (lambda s: s.replace('"option-03": 2', '"option-03": x'), 4322, "malformed JSON", None),
        (lambda s: s.replace('"option-03": 2', '"option-03": -2'), 4322, "score -2 for 'option-03' is not an "
         "integer in 0..5", "scores.option-03"),
        (lambda s: s.replace('"option-03": 2', '"option-03": 2.0'), 4322, "score 2.0 for 'option-03' is not an "
         "integer in 0..5", "scores.option-03"),
        (lambda s: s.replace('"option-03"', '"option-04"'), 4322, "duplicate key 'option-04' in ballot",
         "option-04"),
        (lambda s: s.replace('"option-03"', '"option-13"'), 4322, "unknown candidate 'option-13'", "scores"),
        (lambda s: '{"scores": {}}', 4322, "empty ballot", "scores"),
        (lambda s: s[:-1], 4322, "malformed JSON", None),
    ],
)
def test_bad_line_far_down_same_error(mutate: Any, line: int, message: str, field: str | None) -> None:
    lines = _bench_like(5000, 12, 3)
    target = '"option-03": 2'
    lines[4321] = lines[4321].replace('"option-03": ' + lines[4321].split('"option-03": ')[1][0], target)
    lines[4321] = mutate(lines[4321])
    text = "\n".join(lines)
    candidates = [f"option-{i + 1:02d}" for i in range(12)] if "13" in lines[4321] else None
    status, detail = assert_same(text, candidates=candidates)
    assert status == "error" and detail[0].startswith(f"line {line}: {message}") and detail[1:] == (line, field)
    assert fast_profile(text, None if candidates is None else tuple(candidates), (0, 5), None,
                        _DECODER.decode) is None


def test_parse_jsonl_uses_the_template_path_on_the_benchmark_shape() -> None:
    text = "\n".join(_bench_like(2000, 12, 4))
    via_parse = parse_jsonl(text)
    fixed = fixed_width_scores(text, None, (0, 5), _DECODER.decode)
    assert fixed is not None and _profile_arrays(via_parse) == _profile_arrays(fixed)
