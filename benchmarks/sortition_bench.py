"""Benchmark: our LEXIMIN (HiGHS via scipy, over types) against the reference ``sortition-algorithms``.

Run from the repository root::

    .venv/bin/python benchmarks/sortition_bench.py [--quick] [--json] [--ref-timeout 600] [--only NAME]

Each instance is generated (skewed volunteer pool, quotas = population shares ± 1 seat), written as
people/categories CSVs, and both implementations run on the same files in subprocesses, each with a
timeout. The reference runs its Gurobi LEXIMIN where the pip licence allows (pool ≤ 200) and its
HiGHS MAXIMIN otherwise (the LEXIMIN minimum equals the MAXIMIN optimum, so minima are comparable).
Wall and CPU seconds are both reported: on a shared machine CPU seconds are the fairer measure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Importing sortition sets one BLAS thread in os.environ (sortition/_env.py); the runs must not
# inherit that from this process: each side gets the environment the benchmark was started with.
START_ENV = dict(os.environ)

from sortition.generate import generate_instance  # noqa: E402

GUROBI_POOL_LIMIT = 200


@dataclass(frozen=True)
class Instance:
    name: str
    pool: int
    size: int
    features: tuple[int, ...]
    names: tuple[str, ...] | None = None
    quick: bool = False


INSTANCES = [
    Instance("pool 200 / panel 20 / 3 features", 200, 20, (2, 5, 4), quick=True),
    Instance("pool 1000 / panel 40 / 5 features", 1000, 40, (2, 5, 4, 6, 2), quick=True),
    Instance("pool 2000 / panel 100 / 6 features", 2000, 100, (2, 5, 4, 6, 3, 2)),
    Instance("Nature-size: pool 1700 / panel 110 / 7 features", 1700, 110, (2, 5, 8, 3, 4, 2, 3)),
    Instance(
        "global: pool 10000 / panel 150 / region20 x gender x age5 x edu4 x urban",
        10000,
        150,
        (20, 2, 5, 4, 2),
        ("region", "gender", "age", "education", "urban"),
    ),
]

REFERENCE_SCRIPT = r"""
import csv, json, logging, sys, time
from sortition_algorithms import Settings
from sortition_algorithms.committee_generation import find_distribution_leximin, find_distribution_maximin
from sortition_algorithms.features import read_in_features
from sortition_algorithms.people import read_in_people
logging.disable(logging.CRITICAL)
people_path, cats_path, size, algorithm = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(cats_path, newline="") as f:
    r = csv.DictReader(f); features, _, _ = read_in_features(r.fieldnames, list(r), size)
with open(people_path, newline="") as f:
    r = csv.DictReader(f)
    people, _ = read_in_people(r.fieldnames, list(r), features, Settings(id_column="id", columns_to_keep=[]))
start = time.perf_counter()
find = find_distribution_leximin if algorithm == "leximin" else find_distribution_maximin
committees, probs, _ = find(features, people, size, [])
seconds = time.perf_counter() - start
p = dict.fromkeys(people, 0.0)
for c, w in zip(committees, probs):
    for i in c:
        p[i] += w
print(json.dumps({"min_probability": min(p.values()), "seconds": seconds, "panels": len(committees)}))
"""


def _run(cmd: list[str], timeout: float) -> tuple[dict[str, Any] | None, float, float, str]:
    """(parsed JSON stdout or None, wall seconds, CPU seconds of the child, error text)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=START_ENV)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()  # reaps the child, so its CPU time is counted below
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return None, time.perf_counter() - start, cpu, f"timeout >{timeout:.0f}s wall ({cpu:.0f}s CPU)"
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        return None, wall, cpu, (err.strip().splitlines() or ["failed"])[-1]
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else None), wall, cpu, ""


def bench(inst: Instance, workdir: Path, ref_timeout: float, our_timeout: float, skip_reference: bool) -> dict[str, Any]:
    gen = generate_instance(inst.pool, inst.size, inst.features, seed=2026, feature_names=inst.names)
    people = workdir / f"people_{inst.pool}_{inst.size}.csv"
    cats = workdir / f"categories_{inst.pool}_{inst.size}.csv"
    people.write_text(gen.people_csv, encoding="utf-8")
    cats.write_text(gen.categories_csv, encoding="utf-8")
    ours, wall, cpu, err = _run(
        [sys.executable, "-m", "sortition", "select", "--people", str(people), "--categories", str(cats),
         "--size", str(inst.size), "--seed", "bench", "--json"],
        our_timeout,
    )
    row: dict[str, Any] = {
        "instance": inst.name,
        "ours_seconds": round(wall, 2),
        "ours_cpu_seconds": round(cpu, 2),
        "ours_min_probability": ours["min_probability"] if ours else None,
        "ours_error": err or None,
        "ours_types": (ours or {}).get("stats", {}).get("types"),
    }
    ref_algorithm = "leximin" if inst.pool <= GUROBI_POOL_LIMIT else "maximin"
    row["reference_algorithm"] = f"sortition-algorithms {ref_algorithm} ({'Gurobi' if ref_algorithm == 'leximin' else 'HiGHS'})"
    if skip_reference:
        row.update(reference_seconds=None, reference_min_probability=None, reference_error="skipped")
        return row
    ref, rwall, rcpu, rerr = _run(
        [sys.executable, "-c", REFERENCE_SCRIPT, str(people), str(cats), str(inst.size), ref_algorithm], ref_timeout
    )
    row["reference_seconds"] = round(rwall, 2)
    row["reference_cpu_seconds"] = round(rcpu, 2)
    row["reference_min_probability"] = ref["min_probability"] if ref else None
    row["reference_error"] = rerr or None
    if ours and ref:
        row["speedup_wall"] = round(rwall / wall, 1)
        row["speedup_cpu"] = round(rcpu / cpu, 1) if cpu else None
        row["min_probability_difference"] = ours["min_probability"] - ref["min_probability"]
    elif ours and rerr.startswith("timeout"):
        row["speedup_wall"] = f">{ref_timeout / wall:.1f}"
        row["speedup_cpu"] = f">{rcpu / cpu:.1f}" if cpu else None
    return row


def _fmt(x: Any, digits: int = 5) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small instances only")
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    parser.add_argument("--ref-timeout", type=float, default=600.0, help="seconds per reference run")
    parser.add_argument("--our-timeout", type=float, default=1800.0, help="seconds per run of ours")
    parser.add_argument("--only", default=None, help="run instances whose name contains this text")
    parser.add_argument("--exclude", default=None, help="skip instances whose name contains this text")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference runs")
    args = parser.parse_args()
    chosen = [
        i
        for i in INSTANCES
        if (i.quick or not args.quick)
        and (args.only is None or args.only in i.name)
        and (args.exclude is None or args.exclude not in i.name)
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="sortition-bench-") as tmp:
        for inst in chosen:
            row = bench(inst, Path(tmp), args.ref_timeout, args.our_timeout, args.no_reference)
            rows.append(row)
            if not args.json:
                print(
                    f"{row['instance']}\n"
                    f"  ours LEXIMIN : {row['ours_seconds']:>8.2f} s wall {row['ours_cpu_seconds']:>8.2f} s CPU"
                    f"  min p {_fmt(row['ours_min_probability'])}  {row['ours_error'] or ''}\n"
                    f"  reference    : {_fmt(row.get('reference_seconds'), 2):>8} s wall "
                    f"{_fmt(row.get('reference_cpu_seconds'), 2):>8} s CPU  min p {_fmt(row.get('reference_min_probability'))}"
                    f"  [{row['reference_algorithm']}] {row.get('reference_error') or ''}\n"
                    f"  speed-up     : {row.get('speedup_wall', '-')}x wall, {row.get('speedup_cpu', '-')}x CPU;"
                    f" min p difference {_fmt(row.get('min_probability_difference'), 7)}",
                    flush=True,
                )
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
