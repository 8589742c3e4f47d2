"""The colon-token score path (``voting.scoretokens.colon_token_scores``) agrees with the json path.

Score files in any shape that is not the fixed-width template — key order varying per line,
partial ballots, scores of several digits or negative (within the declared range), extra spaces
anywhere JSON allows them, non-ASCII names — take the colon-token path.  Each check parses the text
with ``parse_jsonl`` and with the json path alone and compares profiles array by array, or errors
(message, line, field); whenever the colon-token path answers by itself, its answer is the json
path's.  Files are mutated in the ways that must send them elsewhere: floats where integers are
required, escaped and unicode-escaped names, duplicate keys, unknown candidates, empty ballots,
malformed JSON, other ballot types mixed in, extra fields, tabs, CRLF line endings, blank lines,
out-of-range scores, colons inside names, NUL bytes.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from voting import parse_jsonl
from voting.scoretokens import colon_token_scores

from .test_fastjsonl import NAMES, _profile_arrays, assert_same

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# NAMES plus names with colons (the tokens are cut at colons) and with spaces around them.
TOKEN_NAMES = [*NAMES, "a:b", ":", "x: 1, ", " lead", "trail ", "option-1:2"]
MUTATIONS = ["float", "exponent", "escape", "unicode-escape", "duplicate", "unknown", "empty", "malformed",
             "truncate", "other-type", "extra", "tab", "crlf", "blank", "range", "nul", "leading-zero",
             "plus", "bool", "string-score", "nested", "no-scores"]


def _ws(draw: st.DrawFn, spaced: bool) -> str:
    return " " * draw(st.integers(0, 2)) if spaced else ""


def _line(draw: st.DrawFn, names: list[str], values: list[Any], spaced: bool, ascii_only: bool,
          seps: tuple[str, str]) -> str:
    """A score ballot with values preformatted; spaces (when ``spaced``) wherever JSON allows them."""
    sep, colon = seps

    def w() -> str:
        return _ws(draw, spaced)

    items = [w() + json.dumps(n, ensure_ascii=ascii_only) + w() + colon + w() + str(v) + w()
             for n, v in zip(names, values, strict=True)]
    return (w() + "{" + w() + '"scores"' + w() + colon + w() + "{" + sep.join(items) + "}" + w() + "}" + w())


def _mutate(draw: st.DrawFn, kind: str, names: list[str], values: list[Any], line: str,
            seps: tuple[str, str]) -> str:
    sep, colon = seps
    j = draw(st.integers(0, len(names) - 1))
    vals: list[Any] = list(values)
    nm = list(names)
    if kind == "float":
        vals[j] = f"{values[j]}.0"
    elif kind == "exponent":
        vals[j] = f"{values[j]}e0"
    elif kind == "leading-zero":
        vals[j] = f"0{abs(values[j])}"
    elif kind == "plus":
        vals[j] = f"+{abs(values[j])}"
    elif kind == "bool":
        vals[j] = "true"
    elif kind == "string-score":
        vals[j] = json.dumps(str(values[j]))
    elif kind == "nested":
        vals[j] = "[1]"
    elif kind == "range":
        vals[j] = draw(st.sampled_from([-100, -2, 6, 11, 100, 40000]))
    elif kind in ("escape", "unicode-escape"):
        escaped = ["".join(f"\\u{ord(ch):04x}" for ch in n) if i == j and kind == "unicode-escape"
                   else json.dumps(n)[1:-1].replace("a", "\\u0061") if i == j else json.dumps(n)[1:-1]
                   for i, n in enumerate(nm)]
        return "{" + '"scores"' + colon + "{" + sep.join(f'"{e}"' + colon + str(v)
                                                        for e, v in zip(escaped, vals, strict=True)) + "}}"
    elif kind == "duplicate" and len(names) >= 2:
        nm[j] = names[(j + 1) % len(names)]
    elif kind == "unknown":
        nm[j] = draw(st.sampled_from(TOKEN_NAMES))
    elif kind == "empty":
        return '{"scores"' + colon + "{}}"
    elif kind == "malformed":
        at = draw(st.integers(0, len(line) - 1))
        return line[:at] + draw(st.sampled_from(["{", "}", ",", ":", '"', "]", "x"])) + line[at:]
    elif kind == "truncate":
        return line[: draw(st.integers(0, len(line) - 1))]
    elif kind == "other-type":
        return draw(st.sampled_from([json.dumps({"ranking": names[:1]}), json.dumps({"approve": names[:1]}),
                                     json.dumps({"grades": {names[0]: "good"}}), json.dumps({"choice": "yes"})]))
    elif kind == "extra":
        return draw(st.sampled_from(['{"id"' + colon + '"r1"' + sep + line.lstrip()[1:],
                                     line.rstrip()[:-1] + sep + '"receipt"' + colon + '"x:y"}']))
    elif kind == "tab":
        at = draw(st.integers(0, len(line)))
        return line[:at] + "\t" + line[at:]
    elif kind == "crlf":
        return line + "\r"
    elif kind == "blank":
        return draw(st.sampled_from(["", "  "]))
    elif kind == "nul":
        return line.replace('"scores"', '"scores\\u0000"') if draw(st.booleans()) else line + "\x00"
    elif kind == "no-scores":
        return line.replace('"scores"', '"score"')
    return _line(draw, nm, vals, False, True, seps)


@st.composite
def score_file(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    """(text, options, pristine): pristine files must be taken by the colon-token path."""
    names = draw(st.lists(st.sampled_from(TOKEN_NAMES), min_size=1, max_size=9, unique=True))
    low, high = draw(st.sampled_from([(0, 5), (0, 5), (0, 100), (-10, 10), (1, 12), (-40000, 40000), (-3, -1)]))
    spaced = draw(st.booleans())
    ascii_only = draw(st.integers(0, 2)) > 0
    seps = draw(st.sampled_from([(", ", ": "), (",", ":")]))
    lines, rows = [], []
    for _ in range(draw(st.integers(1, 40))):
        order = draw(st.permutations(names))
        keep = order[: draw(st.integers(1, len(order)))] if draw(st.booleans()) else order
        values = [draw(st.integers(low, high)) for _ in keep]
        rows.append((list(keep), values))
        lines.append(_line(draw, list(keep), values, spaced, ascii_only, seps))
    mutations = draw(st.integers(0, 3)) if draw(st.booleans()) else 0
    for _ in range(mutations):
        i = draw(st.integers(0, len(lines) - 1))
        lines[i] = _mutate(draw, draw(st.sampled_from(MUTATIONS)), rows[i][0], rows[i][1], lines[i], seps)
    end = draw(st.sampled_from(["", "\n", "\n", "\n\n", "\r\n", " \n"]))
    options: dict[str, Any] = {"score_range": (low, high)}
    if draw(st.integers(0, 3)) == 0:
        extra = draw(st.lists(st.sampled_from(TOKEN_NAMES), max_size=3, unique=True))
        options["candidates"] = sorted(set(names) | set(extra)) if draw(st.booleans()) else extra or names[:1]
    if draw(st.integers(0, 7)) == 0:
        options["kind"] = draw(st.sampled_from(["score", "ranked"]))
    plain_names = all('"' not in n and "\\" not in n and ":" not in n and (ascii_only is False or n.isascii())
                      for n in names)
    pristine = (mutations == 0 and plain_names and end in ("", "\n")
                and set(names) <= set(options.get("candidates", names)) and options.get("kind", "score") == "score")
    return "\n".join(lines) + end, options, pristine


def _colon_path(text: str, options: dict[str, Any], piece_chars: int = 1 << 17) -> Any:
    cands = options.get("candidates")
    return colon_token_scores(text, None if cands is None else tuple(cands), options["score_range"],
                              piece_chars=piece_chars)


@SETTINGS
@given(score_file())
def test_score_files_same_profile_or_same_error(case: tuple[str, dict[str, Any], bool]) -> None:
    text, options, pristine = case
    status, detail = assert_same(text, **options)
    answer = _colon_path(text, options) if options.get("kind", "score") == "score" else None
    event(f"{status}, colon-token path {'answered' if answer is not None else 'declined'}")
    if pristine:
        assert status == "ok" and answer is not None
    if answer is not None:  # whenever the colon-token path answers, it is the json path's answer
        assert (status, detail) == ("ok", _profile_arrays(answer))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(score_file(), st.integers(1, 300))
def test_score_pieces_same_result(case: tuple[str, dict[str, Any], bool], piece: int) -> None:
    """Any piece size (whole lines per piece) gives the one-piece result."""
    text, options, _ = case
    whole = _colon_path(text, options, 1 << 20)
    pieces = _colon_path(text, options, piece)
    assert (whole is None) == (pieces is None)
    if whole is not None and pieces is not None:
        assert _profile_arrays(whole) == _profile_arrays(pieces)


def _shuffled(n: int, m: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    names = [f"option-{i + 1:02d}" for i in range(m)]
    out = []
    for row in rng.integers(0, 6, (n, m)).tolist():
        order = rng.permutation(m).tolist()
        out.append(json.dumps({"scores": {names[i]: row[i] for i in order}}))
    return out


def test_shuffled_key_order_takes_the_colon_path_and_agrees() -> None:
    text = "\n".join(_shuffled(5000, 12, 1))
    answer = colon_token_scores(text, None, (0, 5), piece_chars=1000)
    assert answer is not None and answer.num_voters == 5000
    assert assert_same(text) == ("ok", _profile_arrays(answer))
    assert _profile_arrays(parse_jsonl(text)) == _profile_arrays(answer)


def test_weights_per_line() -> None:
    lines = list(dict.fromkeys(_shuffled(300, 3, 2)))
    text = "\n".join(lines)
    weights = np.arange(1, len(lines) + 1, dtype=np.int64)
    answer = colon_token_scores(text, None, (0, 5), weights)
    assert answer is not None and answer.num_voters == int(weights.sum())
    # parse_jsonl counts repeated lines first, then hands the distinct ones over with weights.
    repeated = "\n".join(line for line, w in zip(lines, weights.tolist(), strict=True) for _ in range(w))
    assert _profile_arrays(parse_jsonl(repeated)) == _profile_arrays(answer)
    assert colon_token_scores(text, None, (0, 5), weights[:-1]) is None


def test_bad_line_far_down_same_error() -> None:
    lines = _shuffled(4000, 12, 3)
    for bad, message, field in [
        ('"option-03": 7', "score 7 for 'option-03' is not an integer in 0..5", "scores.option-03"),
        ('"option-03": 2.0', "score 2.0 for 'option-03' is not an integer in 0..5", "scores.option-03"),
        ('"option-04": 1', "duplicate key 'option-04' in ballot", "option-04"),
    ]:
        mutated = list(lines)
        head, rest = mutated[3210].split('"option-03": ')
        mutated[3210] = head + bad + rest[1:]
        text = "\n".join(mutated)
        status, detail = assert_same(text)
        assert status == "error" and detail[0].startswith(f"line 3211: {message}") and detail[1:] == (3211, field)
        assert colon_token_scores(text, None, (0, 5)) is None


SCALES = [("reject", "poor", "good"), ("to reject", "passable", "très bien", "excellent"), ("a:b", "c")]
GRADE_MUTATIONS = ["unknown-grade", "number", "escape", "duplicate", "unknown", "empty", "malformed", "other-type",
                   "crlf", "blank", "tab", "extra"]


@st.composite
def grade_file(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    """Majority-judgment grade ballots in any key order, partial, spaced; some lines mutated."""
    names = draw(st.lists(st.sampled_from(TOKEN_NAMES), min_size=1, max_size=8, unique=True))
    scale = draw(st.sampled_from(SCALES))
    spaced = draw(st.booleans())
    seps = draw(st.sampled_from([(", ", ": "), (",", ":")]))
    lines = []
    for _ in range(draw(st.integers(1, 30))):
        order = draw(st.permutations(names))
        keep = order[: draw(st.integers(1, len(order)))] if draw(st.booleans()) else order
        grades = [json.dumps(draw(st.sampled_from(scale)), ensure_ascii=False) for _ in keep]
        lines.append(_line(draw, list(keep), grades, spaced, False, seps).replace('"scores"', '"grades"', 1))
    mutations = draw(st.integers(0, 3)) if draw(st.booleans()) else 0
    for _ in range(mutations):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(GRADE_MUTATIONS))
        if kind == "unknown-grade":
            lines[i] = lines[i].replace(f'"{scale[0]}"', '"meh"').replace(f'"{scale[-1]}"', '"Good"')
        elif kind == "number":
            lines[i] = json.dumps({"grades": {names[0]: 1}})
        else:
            line = _mutate(draw, kind, names, [0] * len(names), lines[i], seps)
            lines[i] = line.replace('"scores"', '"grades"', 1)
    end = draw(st.sampled_from(["", "\n", "\n\n", "\r\n"]))
    options: dict[str, Any] = {"grade_scale": scale}
    if draw(st.integers(0, 3)) == 0:
        options["candidates"] = sorted(set(names) | {"zzz"}) if draw(st.booleans()) else names[:1]
    plain = all('"' not in n and "\\" not in n and ":" not in n for n in [*names, *scale])
    pristine = mutations == 0 and plain and end != "\r\n" and set(names) <= set(options.get("candidates", names))
    return "\n".join(lines) + end, options, pristine


@SETTINGS
@given(grade_file())
def test_grade_files_same_profile_or_same_error(case: tuple[str, dict[str, Any], bool]) -> None:
    text, options, pristine = case
    status, detail = assert_same(text, **options)
    cands = options.get("candidates")
    answer = colon_token_scores(text, None if cands is None else tuple(cands), (0, 5),
                                grade_scale=options["grade_scale"])
    event(f"{status}, colon-token path {'answered' if answer is not None else 'declined'}")
    if pristine:
        assert status == "ok" and answer is not None
    if answer is not None:
        assert (status, detail) == ("ok", _profile_arrays(answer))


def test_grades_take_the_colon_path_through_parse_jsonl() -> None:
    rng = np.random.default_rng(5)
    names = [f"option-{i + 1:02d}" for i in range(8)]
    scale = ("reject", "poor", "fair", "good", "excellent")
    lines = [json.dumps({"grades": {names[i]: scale[g] for i, g in zip(rng.permutation(8).tolist(),
                                                                      rng.integers(0, 5, 8).tolist(), strict=True)}})
             for _ in range(3000)]
    text = "\n".join(lines)
    answer = colon_token_scores(text, None, (0, 5), grade_scale=scale)
    assert answer is not None and answer.num_voters == 3000
    assert _profile_arrays(parse_jsonl(text, grade_scale=scale)) == _profile_arrays(answer)
    assert assert_same(text, grade_scale=scale) == ("ok", _profile_arrays(answer))
