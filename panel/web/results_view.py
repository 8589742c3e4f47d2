"""Turn a stored ``Poll.result`` (shape in docs/voting-app.md) into SVG charts and CSV rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from .charts import Bar, bar_chart, grouped_chart


def _order(result: dict[str, Any]) -> list[str]:
    """Candidates in ranking order (tiers flattened), then any the ranking leaves out."""
    ranked = [c for tier in result.get("ranking", []) for c in tier]
    return ranked + [c for c in result.get("candidates", []) if c not in ranked]


def charts(result: dict[str, Any]) -> dict[str, Any]:
    order = _order(result)
    winners = set(result.get("winners", []))
    out: dict[str, Any] = {}
    scores = result.get("scores") or {}
    if scores:
        out["scores"] = bar_chart([Bar(c, float(scores[c]), highlight=c in winners) for c in order if c in scores],
                                  title=_("Score of each option under %(method)s", method=result["method"]))
    support = result.get("support") or {}
    if support:
        out["support"] = bar_chart([Bar(c, float(support[c]), highlight=c in winners) for c in order if c in support],
                                   title=_("Average support for each option"), maximum=1.0, percent=True)
    weighted = result.get("weighted") or {}
    if weighted.get("support"):
        ws = weighted["support"]
        out["weighted"] = bar_chart(
            [Bar(c, float(ws[c]["estimate"]), ws[c].get("low"), ws[c].get("high"), highlight=c in winners)
             for c in order if c in ws],
            title=_("Support weighted to the population by %(feature)s, with %(level)s%% intervals",
                    feature=weighted.get("feature", ""), level=round(100 * float(weighted.get("level", 0.95)))),
            maximum=1.0, percent=True)
    bridging = result.get("bridging") or {}
    if bridging.get("consensus"):
        cons = bridging["consensus"]
        out["bridging"] = bar_chart([Bar(c, float(cons[c]), highlight=c in winners) for c in order if c in cons],
                                    title=_("Group-aware consensus across %(feature)s groups",
                                            feature=bridging.get("feature") or ""), maximum=1.0, percent=True)
    if len(bridging.get("matrix_factorisation") or {}) >= 2:  # one statement alone has no divide to bridge
        mf = bridging["matrix_factorisation"]
        out["mf"] = bar_chart([Bar(c, float(mf[c]["intercept"]), highlight=bool(mf[c]["bridging"]),
                                   note="✓ bridging" if mf[c]["bridging"] else "")
                               for c in order if c in mf],
                              title=_("Bridging score (support not explained by the main divide)"))
    groups: dict[str, Markup] = {}
    for feature, values in (result.get("groups") or {}).items():
        rows: list[tuple[str, list[Bar]]] = []
        measure = "support" if any(v.get("support") for v in values.values()) else "scores"
        for value, data in values.items():
            label = f"{value} (n={data['ballots']})" if not data.get("suppressed") else f"{value} (n<5)"
            numbers = data.get(measure) or {}
            rows.append((label, [Bar(c, float(numbers[c])) for c in order if c in numbers]))
        groups[feature] = grouped_chart(rows, [c for c in order if any(c in (v.get(measure) or {})
                                                                       for v in values.values())],
                                        title=_("Results by %(feature)s", feature=feature),
                                        percent=measure == "support", maximum=1.0 if measure == "support" else None)
    out["groups"] = groups
    return out


def csv_rows(result: dict[str, Any]) -> Iterator[list[Any]]:
    """(feature, group, ballots, candidate, measure, value, low, high) — suppressed groups give no numbers."""
    total = result.get("ballots")
    for cand, value in (result.get("scores") or {}).items():
        yield ["all", "all", total, cand, "score", value, "", ""]
    for cand, value in (result.get("support") or {}).items():
        yield ["all", "all", total, cand, "support", value, "", ""]
    for feature, data in ((result.get("weighted") or {}).get("by_feature") or {}).items():
        for cand, est in data["support"].items():
            yield [feature, "population-weighted", data["ballots"], cand, "weighted_support", est["estimate"],
                   est["low"], est["high"]]
    for feature, scores in ((result.get("bridging") or {}).get("by_feature") or {}).items():
        for cand, value in scores.items():
            yield [feature, "across groups", total, cand, "group_aware_consensus", value, "", ""]
    for cand, mf in ((result.get("bridging") or {}).get("matrix_factorisation") or {}).items():
        yield ["all", "all", mf["raters"], cand, "bridging_intercept", mf["intercept"], "", ""]
    for feature, values in (result.get("groups") or {}).items():
        for group, data in values.items():
            if data.get("suppressed"):
                yield [feature, group, "<5", "", "suppressed", "", "", ""]
                continue
            for measure, label in (("support", "support"), ("scores", "score")):
                for cand, value in (data.get(measure) or {}).items():
                    yield [feature, group, data["ballots"], cand, label, value, "", ""]
