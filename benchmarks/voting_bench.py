"""Benchmark: voting/ against pref_voting and abcvoting, end to end, side by side in one run.

End to end = parse the JSON lines + build the profile + count.  Both sides get the same lines.
The reference pipeline is what a careful user would write: ``json.loads`` per line, identical
ballots collapsed with a ``Counter`` (passed as ``rcounts`` / voter weights — a favour to the
reference), then the reference profile and method.  Each reference method is run once on a tiny
profile first so numba compilation is not timed.

Data (seeded, generated before timing):
* ranked: 12 options; each voter follows one of 6 opinion centres with Gaussian noise on positions
  (σ = 1 position); "truncated" keeps the first k options, k uniform in 1..6;
* score: 12 options, complete 0..5 ballots (centre + noise, rounded) — almost all distinct;
* approval: 20 options; each voter approves 1–4 options drawn by popularity ("pick up to 4").

Where the reference cannot run at full size (Kemeny enumerates m! orders; abcvoting's exact PAV
and CC brute force in pure Python), both sides are timed on the same stated reduced input and the
row says so.  Usage: ``python benchmarks/voting_bench.py [--quick] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voting import parse_jsonl, tally  # noqa: E402

RANKED_METHODS = ["plurality", "borda", "irv", "copeland", "schulze", "ranked-pairs", "minimax", "condorcet",
                  "kemeny"]
SLATE_SEATS = 4


# ---------------------------------------------------------------- data
def ranked_lines(n: int, m: int, truncated: bool, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    names = [f"option-{i + 1:02d}" for i in range(m)]
    centres = np.array([rng.permutation(m) for _ in range(6)])
    pos = np.argsort(centres[rng.integers(0, 6, n)], axis=1) + rng.normal(0, 1.0, (n, m))
    order = np.argsort(pos, axis=1).tolist()
    keep = rng.integers(1, 7, n).tolist() if truncated else [m] * n
    return [json.dumps({"ranking": [names[i] for i in row[:k]]}) for row, k in zip(order, keep, strict=False)]


def score_lines(n: int, m: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    names = [f"option-{i + 1:02d}" for i in range(m)]
    centres = rng.uniform(0, 5, (4, m))
    vals = np.clip(np.rint(centres[rng.integers(0, 4, n)] + rng.normal(0, 1.2, (n, m))), 0, 5).astype(int)
    return [json.dumps({"scores": dict(zip(names, row, strict=False))}) for row in vals.tolist()]


def approval_lines(n: int, m: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    names = [f"option-{i + 1:02d}" for i in range(m)]
    popularity = rng.dirichlet(np.ones(m) * 2)
    sizes = rng.integers(1, 5, n)
    # Gumbel top-k = sampling without replacement proportional to popularity.
    keys = np.log(popularity)[None, :] + rng.gumbel(size=(n, m))
    top = np.argsort(-keys, axis=1)[:, :4].tolist()
    return [json.dumps({"approve": [names[i] for i in row[:s]]}) for row, s in zip(top, sizes.tolist(), strict=False)]


# ---------------------------------------------------------------- reference pipelines
def _ref_rankings(lines: list[str]) -> tuple[list[str], list[tuple[Any, ...]], list[int]]:
    counts = Counter(tuple(tuple(e) if isinstance(e, list) else e for e in json.loads(x)["ranking"]) for x in lines)
    names = sorted({c for r in counts for e in r for c in ([e] if isinstance(e, str) else e)})
    return names, list(counts), list(counts.values())


def ref_ranked(lines: list[str], method: str, complete: bool) -> list[str]:
    from pref_voting import c1_methods, margin_based_methods, other_methods, scoring_methods
    from pref_voting.iterative_methods import instant_runoff_put
    from pref_voting.profiles import Profile
    from pref_voting.profiles_with_ties import ProfileWithTies

    names, rankings, counts = _ref_rankings(lines)
    idx = {c: i for i, c in enumerate(names)}
    prof: Any
    if complete:
        prof = Profile([[idx[c] for c in r] for r in rankings], rcounts=counts)
    else:
        maps = [{idx[c]: t + 1 for t, e in enumerate(r) for c in ([e] if isinstance(e, str) else e)} for r in rankings]
        prof = ProfileWithTies(maps, rcounts=counts, candidates=list(range(len(names))))
        prof.use_extended_strict_preference()
    fn: dict[str, Callable[[], list[int]]] = {
        "plurality": lambda: scoring_methods.plurality(prof),
        "borda": lambda: scoring_methods.borda(prof) if complete else scoring_methods.borda_for_profile_with_ties(prof),
        "irv": lambda: instant_runoff_put(prof) if complete else instant_runoff_put(prof, score_method="split"),
        "copeland": lambda: c1_methods.copeland(prof),
        "schulze": lambda: margin_based_methods.beat_path(prof),
        "ranked-pairs": lambda: margin_based_methods.ranked_pairs(prof),
        "minimax": lambda: margin_based_methods.minimax(prof),
        "condorcet": lambda: c1_methods.condorcet(prof),
        "kemeny": lambda: other_methods.kemeny_young(prof),
    }
    return [names[i] for i in fn[method]()]


def ref_score(lines: list[str], method: str) -> list[str]:
    from pref_voting.grade_methods import majority_judgement, score_voting, star
    from pref_voting.grade_profiles import GradeProfile

    counts = Counter(tuple(sorted(json.loads(x)["scores"].items())) for x in lines)
    names = sorted({c for r in counts for c, _ in r})
    idx = {c: i for i, c in enumerate(names)}
    gprof = GradeProfile([{idx[c]: v for c, v in r} for r in counts], [0, 1, 2, 3, 4, 5],
                         gcounts=list(counts.values()), candidates=list(range(len(names))))
    fn = {"score": score_voting, "star": star, "majority-judgment": majority_judgement}[method]
    return [names[i] for i in fn(gprof)]


def ref_approval(lines: list[str], method: str, seats: int) -> list[Any]:
    counts = Counter(tuple(sorted(json.loads(x)["approve"])) for x in lines)
    names = sorted({c for r in counts for c in r})
    idx = {c: i for i, c in enumerate(names)}
    if method == "approval":
        from pref_voting.grade_methods import approval
        from pref_voting.grade_profiles import GradeProfile

        gprof = GradeProfile([{idx[c]: 1 for c in r} for r in counts], [0, 1], gcounts=list(counts.values()),
                             candidates=list(range(len(names))))
        return [names[i] for i in approval(gprof)]
    from abcvoting import abcrules
    from abcvoting.preferences import Profile, Voter

    prof = Profile(len(names))
    prof.add_voters([Voter([idx[c] for c in r], weight=w) for r, w in counts.items()])
    rule, algorithm = {
        "av": ("av", "standard"), "pav": ("pav", "brute-force"), "cc": ("cc", "brute-force"),
        "seq-phragmen": ("seqphragmen", "standard-fractions"), "mes": ("equal-shares", "standard-fractions"),
    }[method]
    committees = abcrules.compute(rule, prof, seats, algorithm=algorithm, resolute=False, max_num_of_committees=None)
    return sorted(tuple(sorted(names[i] for i in c)) for c in committees)


# ---------------------------------------------------------------- timing
def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def ours(text: str, method: str, seats: int | None = None) -> Any:
    result = tally(method, parse_jsonl(text), seats=seats)
    return sorted(result.committees) if result.committees is not None else sorted(result.winners)


def warm_up() -> None:
    tiny_r = ranked_lines(30, 4, False, 0)
    tiny_t = ranked_lines(30, 4, True, 0)
    for method in RANKED_METHODS:
        ref_ranked(tiny_r, method, True)
        ref_ranked(tiny_t, method, False)
    tiny_s = score_lines(30, 4, 0)
    for method in ("score", "star", "majority-judgment"):
        ref_score(tiny_s, method)
    tiny_a = approval_lines(30, 6, 0)
    for method in ("approval", "av", "pav", "cc", "seq-phragmen", "mes"):
        ref_approval(tiny_a, method, 2)


def row(dataset: str, method: str, lines: list[str], ref: Callable[[list[str]], Any], ours_fn: Callable[[str], Any],
        note: str = "") -> dict[str, Any]:
    text = "\n".join(lines)
    t_ours, w_ours = timed(lambda: ours_fn(text))
    t_ref, w_ref = timed(lambda: ref(lines))
    agree = list(w_ours) == sorted(w_ref)
    out = {"dataset": dataset, "method": method, "ballots": len(lines), "ours_s": t_ours, "ref_s": t_ref,
           "ratio": t_ref / t_ours if t_ours else float("inf"), "same_winners": bool(agree), "note": note}
    print(f"{dataset:<26} {method:<18} {len(lines):>9,} {t_ours:>9.3f} {t_ref:>10.3f} {out['ratio']:>8.1f}x"
          f"  {'ok' if agree else 'DIFFERENT'} {note}", flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller inputs")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON at the end")
    parser.add_argument("--skip-reference", action="store_true", help="only time ours (all-methods run)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    n_ranked, n_score, n_appr, n_all = 100_000 // scale, 100_000 // scale, 1_000_000 // scale, 1_000_000 // scale
    print(f"# voting benchmark  cpus={os.cpu_count()}  load={os.getloadavg()[0]:.1f}  quick={args.quick}")
    rows: list[dict[str, Any]] = []
    if not args.skip_reference:
        t_warm, _ = timed(warm_up)
        print(f"# reference warm-up (numba compile etc., not counted): {t_warm:.1f}s")
        print(f"{'dataset':<26} {'method':<18} {'ballots':>9} {'ours s':>9} {'ref s':>10} {'ratio':>9}")
        complete = ranked_lines(n_ranked, 12, False, 1)
        truncated = ranked_lines(n_ranked, 12, True, 2)
        for label, lines, is_complete in (("ranked x12 complete", complete, True),
                                          ("ranked x12 truncated", truncated, False)):
            for method in RANKED_METHODS:
                if method == "kemeny":
                    # pref_voting's Kemeny enumerates all m! rankings: 12! is out of reach, use 8 options.
                    keep = {f"option-{i + 1:02d}" for i in range(8)}
                    sub = [json.dumps({"ranking": [c for c in json.loads(x)["ranking"] if c in keep] or ["option-01"]})
                           for x in lines]
                    rows.append(row(label, method, sub, lambda ls, c=is_complete: ref_ranked(ls, "kemeny", c),
                                    lambda t: ours(t, "kemeny"), "(both on the same ballots cut to 8 options)"))
                    continue
                rows.append(row(label, method, lines, lambda ls, mm=method, c=is_complete: ref_ranked(ls, mm, c),
                                lambda t, mm=method: ours(t, mm)))
        scores = score_lines(n_score, 12, 3)
        for method in ("score", "star", "majority-judgment"):
            note = "(MJ: ours with tiebreak=gauge, as pref_voting)" if method == "majority-judgment" else ""
            rows.append(row("score x12", method, scores, lambda ls, mm=method: ref_score(ls, mm),
                            (lambda t: sorted(tally("majority-judgment", parse_jsonl(t), tiebreak="gauge").winners))
                            if method == "majority-judgment" else (lambda t, mm=method: ours(t, mm)), note))
        approvals = approval_lines(n_appr, 20, 4)
        rows.append(row("approval x20", "approval", approvals, lambda ls: ref_approval(ls, "approval", 1),
                        lambda t: ours(t, "approval")))
        for method in ("av", "seq-phragmen", "mes", "pav", "cc"):
            lines = approvals
            note = f"(k={SLATE_SEATS})"
            if method in ("pav", "cc"):
                # abcvoting's exact brute force is pure Python over C(20,k) committees × distinct ballots.
                lines = approvals[: max(1, len(approvals) // 100)]
                note = f"(k={SLATE_SEATS}; both on the first {len(lines):,} ballots: reference brute force too slow)"
            rows.append(row("approval x20", method, lines, lambda ls, mm=method: ref_approval(ls, mm, SLATE_SEATS),
                            lambda t, mm=method: ours(t, mm, SLATE_SEATS), note))
    # All our ranked methods together on the big ranked input: parse once, count with every method.
    big = "\n".join(ranked_lines(n_all, 12, False, 5))
    t0 = time.perf_counter()
    profile = parse_jsonl(big)
    t_parse = time.perf_counter() - t0
    per_method = {}
    for method in RANKED_METHODS:
        t, _ = timed(lambda mm=method: tally(mm, profile))
        per_method[method] = t
    total = time.perf_counter() - t0
    print(f"# all {len(RANKED_METHODS)} ranked methods on {n_all:,} ranked ballots x 12 "
          f"({profile.weights.size:,} distinct): parse+build {t_parse:.2f}s, counting "
          f"{total - t_parse:.2f}s, total {total:.2f}s  (goal < 10 s)")
    print("#   " + ", ".join(f"{k} {v:.2f}s" for k, v in per_method.items()))
    if rows:
        shared = [r for r in rows]
        worst = min(shared, key=lambda r: r["ratio"])
        print(f"# slowest ratio: {worst['method']} on {worst['dataset']}: {worst['ratio']:.1f}x (goal >= 20x)")
    if args.json:
        print(json.dumps({"rows": rows, "all_methods": {"ballots": n_all, "parse_s": t_parse, "total_s": total,
                                                          "per_method_s": per_method,
                                                          "distinct": int(profile.weights.size)}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
