"""`python -m voting tally`: the JSON contract, exit status 2 with the line on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from voting.cli import main

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, lines: list[str]) -> str:
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_contract_via_subprocess(tmp_path: Path) -> None:
    path = write(tmp_path, ['{"ranking": ["a", "b", "c"]}', '{"ranking": ["b", ["a", "c"]]}', '{"ranking": ["a"]}'])
    out = subprocess.run(
        [sys.executable, "-m", "voting", "tally", "--ballots", path, "--method", "schulze", "--json"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )
    result = json.loads(out.stdout)
    assert set(result) >= {"method", "winners", "ranking", "scores"}
    assert result["method"] == "schulze" and result["winners"] == ["a"]
    assert result["ranking"][0] == ["a"]


def test_slate_prints_committees(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ['{"approve": ["a", "b"]}', '{"approve": ["c"]}', '{"approve": ["a", "c"]}'])
    assert main(["tally", "--ballots", path, "--method", "pav", "--seats", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["committees"] == [["a", "c"]]
    assert result["winners"] == ["a", "c"]


def test_candidates_option_and_score_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ['{"scores": {"a": 9, "b": 10}}', '{"scores": {"a": 10}}'])
    assert main(["tally", "--ballots", path, "--method", "score", "--score-range", "0:10",
                 "--candidates", "a,b,c", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["winners"] == ["a"] and result["scores"] == {"a": 19, "b": 10, "c": 0}


def test_tiebreak_seed_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ['{"ranking": ["a", "b"]}', '{"ranking": ["b", "a"]}'])
    assert main(["tally", "--ballots", path, "--method", "borda", "--tiebreak-seed", "7", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["winners"] == ["a", "b"] and result["tied"] is True
    assert result["tiebreak"]["seed"] == 7 and result["tiebreak"]["chosen"] in ("a", "b")


def test_human_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ['{"choice": "yes"}', '{"choice": "no"}', '{"choice": "yes"}'])
    assert main(["tally", "--ballots", path, "--method", "plurality"]) == 0
    assert "winners: yes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("lines", "args", "needle"),
    [
        (['{"ranking": ["a"]}', '{"ranking": ["a", "a"]}'], [], "line 2"),
        (['{"ranking": ["a"]}', "{oops"], [], "line 2: malformed JSON"),
        (['{"ranking": ["a"]}', '{"ranking": ["x"]}'], ["--candidates", "a,b"], "line 2: unknown candidate 'x'"),
        (['{"scores": {"a": 7}}'], [], "line 1: score 7"),
        (['{"ranking": []}'], [], "line 1: empty ballot"),
        (['{"ranking": ["a"]}'], ["--method", "nope"], "unknown method"),
        (['{"approve": ["a"]}'], ["--method", "pav"], "needs seats"),
        (['{"approve": ["a"]}'], ["--method", "borda"], "counts ranked"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[str], args: list[str], needle: str
) -> None:
    path = write(tmp_path, lines)
    method = [] if "--method" in args else ["--method", "plurality"]
    assert main(["tally", "--ballots", path, *method, *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_missing_file_and_bad_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tally", "--ballots", str(tmp_path / "none.jsonl"), "--method", "borda"]) == 2
    assert main(["tally", "--ballots", "x", "--method", "borda", "--score-range", "5"]) == 2
    capsys.readouterr()


def test_methods_lists_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for rule in ("plurality", "kemeny", "mes", "seq-phragmen", "majority-judgment"):
        assert rule in out
