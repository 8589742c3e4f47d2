"""The vectorised JSON-lines fast path gives exactly what the json path gives: profiles and errors.

Every check parses the same text twice: ``parse_jsonl`` (fast path first) and the json path alone
(``voting.jsonl._parse_lines``), then compares the profiles array by array, or the errors
(message, line, field).  Files are random (hypothesis) and mix canonical lines with odd but valid
JSON (other whitespace, unicode escapes, key order, extra ``id``/``receipt`` fields, ``4.0`` or
``1e0`` scores) and with bad lines (malformed JSON, duplicate candidates or keys, unknown
candidates, out-of-range scores, empty ballots, another ballot type).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voting import BallotError, parse_jsonl
from voting.fastjsonl import fast_profile
from voting.jsonl import _DECODER, _parse_lines
from voting.profiles import Profile

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Names chosen to hit the byte-level corners: 1 to 30 bytes (one, two and several 8-byte words),
# common prefixes and suffixes, non-ASCII, characters JSON must escape, and a name equal to a key.
NAMES = ["a", "b", "option-01", "option-02", "option-10", "aaaaaaaaa", "aaaaaaaaaa", "Zürich", "東京 tower",
         'say "hi"', "back\\slash", "a much longer proposal name here", "a much longer proposal name, too",
         "ranking", "scores", "approve", ""]
KEYS = {"ranked": "ranking", "approval": "approve", "score": "scores"}


def _profile_arrays(p: Profile) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(p).__name__, "candidates": p.candidates}
    for name in ("ranks", "listed", "weights", "approved", "scores", "scored", "grades", "graded", "counts"):
        value = getattr(p, name, None)
        if value is not None:
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
    for name in ("low", "high", "scale"):
        if hasattr(p, name):
            out[name] = getattr(p, name)
    return out


def _outcome(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", _profile_arrays(fn())
    except BallotError as exc:
        return "error", (str(exc), exc.line, exc.field)


def assert_same(text: str, **options: Any) -> tuple[str, Any]:
    """parse_jsonl (fast path first) and the json path alone agree exactly."""
    kwargs = {"candidates": None, "score_range": (0, 5), "grade_scale": ("reject", "poor", "good"), "kind": None}
    kwargs.update(options)
    fast = _outcome(lambda: parse_jsonl(text, **kwargs))
    slow = _outcome(lambda: _parse_lines(text, kwargs["candidates"], kwargs["score_range"],
                                         tuple(kwargs["grade_scale"]), kwargs["kind"]))
    assert fast == slow
    return fast


# ---------------------------------------------------------------- rendering JSON in many styles
@st.composite
def style(draw: st.DrawFn, tabs: bool) -> dict[str, Any]:
    """A line's JSON style.  Tabs (control bytes) send the whole file the json way: only some files."""
    return {
        "comma": draw(st.sampled_from([", ", ",", ", ", " , "] + ([",\t"] if tabs else []))),
        "colon": draw(st.sampled_from([": ", ":", ": ", " :  "])),
        "ascii": draw(st.booleans()),
        "pad": draw(st.sampled_from(["", "", "", " ", "\u3000"] + (["\t"] if tabs else []))),
    }


def render(value: Any, s: dict[str, Any], numbers: dict[int, str] | None = None) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=s["ascii"])
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return (numbers or {}).get(value, str(value))
    if isinstance(value, list):
        return "[" + s["comma"].join(render(v, s, numbers) for v in value) + "]"
    if isinstance(value, tuple):  # (key, value) pairs: an object, duplicate keys allowed
        return "{" + s["comma"].join(render(k, s) + s["colon"] + render(v, s, numbers) for k, v in value) + "}"
    return str(value)  # preformatted JSON text (a float like 4.0 or 1e0)


@st.composite
def ballot_value(draw: st.DrawFn, kind: str, names: list[str], faulty: bool) -> Any:
    if faulty:
        pick = draw(st.lists(st.sampled_from(names), min_size=0, max_size=min(6, len(names) + 1)))
    else:
        pick = draw(st.lists(st.sampled_from(names), min_size=1, max_size=6, unique=True))
    if kind == "score":
        scores = [draw(st.integers(-1, 6) if faulty else st.integers(0, 5)) for _ in pick]
        items: list[tuple[str, Any]] = list(zip(pick, scores, strict=True))
        numbers = [None, None, "4.0", "1e0", "true", '"3"'] if faulty else [None]
        weird = draw(st.sampled_from(numbers))
        if weird is not None and items:
            items[0] = (items[0][0], weird)  # preformatted JSON text
        return tuple(items)
    if kind == "ranked" and len(pick) >= 2 and draw(st.booleans()):
        cut = draw(st.integers(0, len(pick) - 2))
        size = draw(st.integers(1, len(pick) - cut))
        return pick[:cut] + [pick[cut : cut + size]] + pick[cut + size :]  # a tie (maybe of one name)
    return pick


@st.composite
def jsonl_file(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """Half of the files are valid (odd styles only), half may hold bad lines of every sort."""
    kind = draw(st.sampled_from(["ranked", "approval", "score"]))
    faulty = draw(st.booleans())
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=7, unique=True))
    canonical = {"comma": ", ", "colon": ": ", "ascii": True, "pad": ""}
    tabs = draw(st.integers(0, 5)) == 0
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 25))):
        s = canonical if draw(st.integers(0, 3)) else draw(style(tabs))
        roll = draw(st.integers(0, 40)) if faulty else 1
        line_kind = kind if roll else draw(st.sampled_from(["ranked", "approval", "score", "grades", "choice"]))
        if line_kind == "grades":
            line = render((("grades", (("a", "good"),)),), s)
        elif line_kind == "choice":
            line = render((("choice", "yes"),), s)
        else:
            fields = [(KEYS[line_kind], draw(ballot_value(line_kind, names, faulty)))]
            extra = draw(st.sampled_from([None, None, None, "id", "receipt"] + (["other"] if faulty else [])))
            if extra is not None:
                fields.insert(draw(st.integers(0, 1)), (extra, draw(st.sampled_from(["r1", 7, "x\u00e9"]))))
            line = render(tuple(fields), s)
        damage = draw(st.integers(0, 60)) if faulty else 99
        if damage == 0:
            line = line[: draw(st.integers(0, len(line) - 1))]  # truncated: malformed JSON
        elif damage == 1:
            line = "[" + line + "]"  # not an object
        elif damage == 2:
            line = ""  # blank line
        lines.append(s["pad"] + line + s["pad"])
    newline = draw(st.sampled_from(["\n"] * 7 + ["\r\n"]))
    text = newline.join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["score_range"] = draw(st.sampled_from([(0, 5), (1, 5), (-1, 3)]) if faulty else st.just((0, 5)))
    if draw(st.integers(0, 3)) == 0:
        options["candidates"] = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=8, unique=True))
        if not faulty:
            options["candidates"] = sorted(set(options["candidates"]) | set(names))
    if draw(st.integers(0, 5)) == 0 and faulty:
        options["kind"] = draw(st.sampled_from(["ranked", "approval", "score", "grades"]))
    return text, options


@SETTINGS
@given(jsonl_file())
def test_random_files_same_profile_or_same_error(case: tuple[str, dict[str, Any]]) -> None:
    text, options = case
    assert_same(text, **options)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jsonl_file(), st.integers(1, 120))
def test_small_pieces_same_result(case: tuple[str, dict[str, Any]], piece: int) -> None:
    """The file cut in pieces of a few characters (whole lines each) gives the one-piece result."""
    text, options = case
    kind = options.get("kind")
    score_range = options.get("score_range", (0, 5))
    cands = options.get("candidates")
    cands = None if cands is None else tuple(cands)
    whole = fast_profile(text, cands, score_range, kind, _DECODER.decode)
    pieces = fast_profile(text, cands, score_range, kind, _DECODER.decode, piece_chars=piece)
    assert (whole is None) == (pieces is None)
    if whole is not None and pieces is not None:
        assert _profile_arrays(whole) == _profile_arrays(pieces)
        assert assert_same(text, **options) == ("ok", _profile_arrays(pieces))


@st.composite
def canonical_file(draw: st.DrawFn) -> tuple[str, str]:
    """Valid files written like json.dumps does (default or compact separators): the fast shape."""
    kind = draw(st.sampled_from(["ranked", "approval", "score"]))
    names = draw(st.lists(st.sampled_from([n for n in NAMES if '"' not in n and "\\" not in n]), min_size=1,
                          max_size=7, unique=True))
    compact = draw(st.booleans())
    seps = (",", ":") if compact else (", ", ": ")
    lines = []
    for _ in range(draw(st.integers(1, 30))):
        pick = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
        value: Any
        if kind == "score":
            value = {n: draw(st.integers(0, 5)) for n in pick}
        elif kind == "ranked" and len(pick) >= 2 and draw(st.booleans()):
            value = [pick[0], pick[1:3]] + pick[3:]
        else:
            value = pick
        lines.append(json.dumps({KEYS[kind]: value}, separators=seps, ensure_ascii=False))
    return "\n".join(lines) + "\n", kind


@settings(max_examples=200, deadline=None)
@given(canonical_file())
def test_canonical_files_take_the_fast_path(case: tuple[str, str]) -> None:
    text, kind = case
    fast = fast_profile(text, None, (0, 5), None, _DECODER.decode)
    assert fast is not None and fast.kind == kind
    assert assert_same(text) == ("ok", _profile_arrays(fast))


# ---------------------------------------------------------------- fixed cases
@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"ranking": ["a", "b"]}\n{"ranking": ["a", "a"]}\n', "line 2: candidate 'a' listed twice"),
        ('{"scores": {"a": 1}}\n\n{"scores": {"a": 1, "a": 2}}\n', "line 3: duplicate key 'a' in ballot"),
        ('{"scores": {"a": 1}}\n{"scores": {"a": 9}}\n', "line 2: score 9 for 'a' is not an integer in 0..5"),
        ('{"scores": {"a": 1}}\n{"scores": {"a": 4.0}}\n', "line 2: score 4.0 for 'a' is not an integer in 0..5"),
        ('{"scores": {"a": 1}}\n{"scores": {"a": 1e0}}\n', "line 2: score 1.0 for 'a' is not an integer in 0..5"),
        ('{"approve": ["a"]}\n{"approve": []}\n', "line 2: empty ballot"),
        ('{"ranking": ["a"]}\n{"ranking": ["a", ]}\n', "line 2: malformed JSON"),
        ('{"ranking": ["a"]}\n{"approve": ["a"]}\n', "line 2: expected ranked ballots, got a approval ballot"),
        ('{"ranking": ["a", []]}\n', "line 1: ranking entries must be names or non-empty lists of tied names"),
        ('{"ranking": ["a", [["b"]]]}\n', "line 1: ranking entries must be names or non-empty lists"),
    ],
)
def test_bad_lines_same_error_and_line(text: str, error: str) -> None:
    status, detail = assert_same(text)
    assert status == "error" and detail[0].startswith(error)


def test_many_lines_bad_line_far_down_keeps_its_number() -> None:
    good = [json.dumps({"ranking": [f"option-{i % 7:02d}", f"option-{(i + 1) % 7:02d}"]}) for i in range(5000)]
    good[4321] = '{"ranking": ["option-01", "option-01"]}'
    status, detail = assert_same("\n".join(good))
    assert status == "error" and detail[1] == 4322


def test_unicode_escapes_and_raw_unicode_are_the_same_name() -> None:
    text = '{"approve": ["Z\\u00fcrich", "b"]}\n{"approve": ["Zürich"]}\n{"approve": ["b", "Zürich"]}\n'
    status, detail = assert_same(text)
    assert status == "ok" and detail["candidates"] == ("Zürich", "b") and detail["weights"] == [1, 2]


def test_odd_lines_are_merged_with_fast_lines() -> None:
    text = ('{"scores": {"a": 4, "b": 0}}\n{ "scores" : { "b" : 0 , "a" : 4 } }\n{"receipt": "x", "scores": {"a": 4}}\n'
            '{"scores":{"a":4,"b":0}}\n')
    status, detail = assert_same(text)
    assert status == "ok" and sorted(detail["weights"]) == [1, 3]


def test_ties_and_truncation_in_the_fast_shape() -> None:
    text = '{"ranking": [["a", "b"], "c"]}\n{"ranking": ["c", ["a", "b", "d"]]}\n{"ranking": [["d"]]}\n'
    assert fast_profile(text, None, (0, 5), None, _DECODER.decode) is not None
    status, detail = assert_same(text)
    assert status == "ok"
    assert sorted(map(tuple, detail["ranks"])) == [(0, 0, 1, 2), (1, 1, 0, 1), (1, 1, 1, 0)]


def test_long_names_sharing_first_and_last_bytes() -> None:
    # Same first 8 and last 8 bytes, different lengths or middles: must stay different candidates.
    names = ["aaaaaaaaa", "aaaaaaaaaa", "abcdefgh-MIDDLE-1-stuvwxyz", "abcdefgh-MIDDLE-2-stuvwxyz"]
    text = "\n".join(json.dumps({"approve": [n]}) for n in names * 3)
    status, detail = assert_same(text)
    assert status == "ok" and detail["candidates"] == tuple(sorted(names)) and detail["weights"] == [3, 3, 3, 3]
