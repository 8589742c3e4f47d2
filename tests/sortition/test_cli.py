from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sortition.cli import main

FIX = Path(__file__).parent / "fixtures"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sortition", *args], capture_output=True, text=True, cwd=Path(__file__).parents[2]
    )


def test_select_prints_the_contract_json(tmp_path: Path) -> None:
    transcript = tmp_path / "t.json"
    proc = run(
        "select", "--people", str(FIX / "people.csv"), "--categories", str(FIX / "categories.csv"),
        "--size", "5", "--seed", "public seed", "--json", "--transcript", str(transcript),
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in ("panel", "probabilities", "min_probability", "algorithm", "seed", "seconds", "ticket", "input_digest"):
        assert key in out
    assert len(out["panel"]) == 5 and out["algorithm"] == "leximin" and out["seed"] == "public seed"
    assert sum(out["probabilities"].values()) == pytest.approx(5)
    ok = run("verify", "--people", str(FIX / "people.csv"), "--categories", str(FIX / "categories.csv"),
             "--transcript", str(transcript))
    assert ok.returncode == 0, ok.stderr
    bad = run("verify", "--people", str(FIX / "people.csv"), "--categories", str(FIX / "categories.csv"),
              "--transcript", str(transcript), "--seed", "a different seed", "--json")
    assert bad.returncode == 2 and "ticket" in bad.stderr
    assert json.loads(bad.stdout)["verified"] is False


@pytest.mark.parametrize(
    ("people", "categories", "size", "expect"),
    [
        ("people_mixed_encoding.csv", "categories.csv", "3", "line 4"),
        ("people_duplicate_id.csv", "categories.csv", "2", "line 4"),
        ("people_unknown_value.csv", "categories.csv", "1", "'age'"),
        ("people.csv", "categories_min_gt_max.csv", "3", "line 3"),
        ("people.csv", "categories.csv", "11", "fewer than the panel size"),
        ("people.csv", "categories_infeasible.csv", "5", "cannot all hold together"),
        ("missing.csv", "categories.csv", "3", "cannot read"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    people: str, categories: str, size: str, expect: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["select", "--people", str(FIX / people), "--categories", str(FIX / categories), "--size", size, "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert expect in captured.err
    assert "Traceback" not in captured.err
    error = json.loads(captured.out)
    assert error["code"] and error["message"]


def test_infeasible_json_carries_diagnosis(capsys: pytest.CaptureFixture[str]) -> None:
    main(["select", "--people", str(FIX / "people.csv"), "--categories", str(FIX / "categories_infeasible.csv"),
          "--size", "5", "--json"])
    error = json.loads(capsys.readouterr().out)
    assert error["diagnosis"]["relaxation_cost"] == 1
    assert len(error["diagnosis"]["clashing_quotas"]) == 2


def test_address_columns_and_algorithm_options(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["select", "--people", str(FIX / "people.csv"), "--categories", str(FIX / "categories.csv"),
                 "--size", "5", "--address-columns", "address1,postcode", "--algorithm", "maximin"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["algorithm"] == "maximin"
    assert not {"1", "4"} <= set(out["panel"])


def test_quotas_command_writes_categories(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quotas", "--shares", str(FIX / "shares_nested.csv"), "--size", "40", "--tolerance", "1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("feature,value,min,max\n") and "country,India," in text


def test_replace_command(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--people", str(FIX / "people.csv"), "--categories", str(FIX / "categories.csv")]
    main(["select", *base, "--size", "5", "--seed", "s"])
    panel = json.loads(capsys.readouterr().out)["panel"]
    code = main(["replace", *base, "--selected", ",".join(panel), "--declined", panel[0], "--seed", "r"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out["replacements"]) == 1 and out["replacements"][0] not in panel
