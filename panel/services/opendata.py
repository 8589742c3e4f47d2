"""Open data: public, versioned datasets as CSV and JSON (documented in docs/open-data.md).

Nothing here is personal: no names, emails, households, receipts or voter ids. Counts of people
below 5 are merged into an "other" row (pool statistics) or suppressed (ballot strata).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import NotFound, ValidationFailed
from ..models import (
    Ballot,
    Commitment,
    Delivery,
    Feature,
    Lottery,
    Mission,
    Panel,
    Poll,
    Recommendation,
    Response,
    Volunteer,
)
from ..models.base import utcnow
from . import missions, recommendations
from .lottery import PSEUDONYMS

SCHEMA_VERSION = "1.0"
MIN_GROUP = 5
PUBLIC_PANEL = ("recruiting", "selected", "deliberating", "voting", "reporting", "closed")
PERSONAL_KEYS = {"name", "email", "household", "address", "phone", "user_id", "voter_id", "receipt",
                 "receipt_hash", "token"}
SEATED = ("selected", "invited", "accepted")


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    description: str
    fields: tuple[str, ...]
    rows: Callable[[Session, int | None], list[dict[str, Any]]]


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _panels(session: Session, panel_id: int | None) -> list[Panel]:
    stmt = select(Panel).where(Panel.status.in_(PUBLIC_PANEL)).order_by(Panel.id)
    if panel_id is not None:
        stmt = stmt.where(Panel.id == panel_id)
    return list(session.execute(stmt).scalars())


def panels_rows(session: Session, panel_id: int | None) -> list[dict[str, Any]]:
    return [{"panel_id": p.id, "slug": p.slug, "title": p.title, "question": p.question, "status": p.status,
             "seats": p.size, "languages": p.languages, "created_at": _iso(p.created_at)}
            for p in _panels(session, panel_id)]


def pool_rows(session: Session, panel_id: int | None) -> list[dict[str, Any]]:
    out = []
    for p in _panels(session, panel_id):
        vols = session.execute(select(Volunteer.features, Volunteer.status).where(Volunteer.panel_id == p.id)).all()
        for feat in session.execute(select(Feature).where(Feature.panel_id == p.id).order_by(Feature.position)
                                    ).scalars():
            pool = Counter(str((f or {}).get(feat.name)) for f, _s in vols)
            seated = Counter(str((f or {}).get(feat.name)) for f, s in vols if s in SEATED)
            other_pool = other_seated = 0
            for v in feat.values:
                n_pool, n_seated = pool.get(v.value, 0), seated.get(v.value, 0)
                if 0 < n_pool < MIN_GROUP:  # small groups merge: their counts alone could identify people
                    other_pool += n_pool
                    other_seated += n_seated
                    continue
                out.append({"panel_id": p.id, "feature": feat.name, "value": v.value, "population_share": v.share,
                            "quota_min": v.min_count, "quota_max": v.max_count, "pool_count": n_pool,
                            "panel_count": n_seated if n_seated >= MIN_GROUP or n_seated == 0 else None})
            if other_pool:
                out.append({"panel_id": p.id, "feature": feat.name, "value": "other (groups under 5 merged)",
                            "population_share": None, "quota_min": None, "quota_max": None,
                            "pool_count": other_pool if other_pool >= MIN_GROUP else None,
                            "panel_count": other_seated if other_seated >= MIN_GROUP else None})
    return out


def _scrub(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _scrub(v) for k, v in data.items() if k not in PERSONAL_KEYS}
    if isinstance(data, list):
        return [_scrub(v) for v in data]
    return data


def _public_transcript(transcript: dict[str, Any] | None) -> Any:
    """The transcript with the same people file the lottery page publishes (one policy, docs/lottery-app.md).

    A lottery announced with per-lottery pseudonyms froze a people file of pseudonyms, the quota
    feature columns and household pseudonyms only; it is what the input digest covers, so it is
    published here too and the draw replays from this dataset alone. A lottery announced before
    pseudonyms (``people_ids`` "pool ids as uploaded") keeps its file on its own page only, as it was
    announced; here it stays withheld. Both keep ``people_csv_sha256`` and ``people_rows``."""
    data = _scrub(transcript)
    if not isinstance(data, dict):
        return data
    inputs = data.get("inputs")
    if isinstance(inputs, dict) and isinstance(inputs.get("people_csv"), str):
        text = inputs["people_csv"] if inputs.get("people_ids") == PSEUDONYMS else inputs.pop("people_csv")
        inputs["people_csv_sha256"] = hashlib.sha256(text.encode()).hexdigest()
        inputs["people_rows"] = max(0, len(text.strip().splitlines()) - 1)
    return data


def lottery_rows(session: Session, panel_id: int | None) -> list[dict[str, Any]]:
    ids = [p.id for p in _panels(session, panel_id)]
    rows = session.execute(select(Lottery).where(Lottery.panel_id.in_(ids), Lottery.status.in_(("done", "published")))
                           .order_by(Lottery.id)).scalars()
    return [{"lottery_id": lo.id, "panel_id": lo.panel_id, "kind": lo.kind, "algorithm": lo.algorithm,
             "algorithm_version": lo.algorithm_version, "seed": lo.seed,
             "seed_announced_at": _iso(lo.seed_announced_at), "input_digest": lo.input_digest,
             "min_probability": lo.min_probability, "selected_count": len(lo.selected or []),
             "finished_at": _iso(lo.finished_at), "transcript": _public_transcript(lo.transcript)} for lo in rows]


def _published_polls(session: Session, panel_id: int | None) -> list[Poll]:
    ids = [p.id for p in _panels(session, panel_id)]
    return list(session.execute(select(Poll).where(Poll.panel_id.in_(ids), Poll.status == "published")
                                .order_by(Poll.id)).scalars())


def ballot_rows(session: Session, panel_id: int | None) -> list[dict[str, Any]]:
    out = []
    for poll in _published_polls(session, panel_id):
        ballots = session.execute(select(Ballot.content, Ballot.strata).where(Ballot.poll_id == poll.id)
                                  .order_by(Ballot.receipt_hash)).all()  # hash order: unrelated to voting order
        sizes = Counter((k, v) for _c, s in ballots for k, v in (s or {}).items())
        for i, (content, strata) in enumerate(ballots, start=1):
            safe = {k: (v if sizes[(k, v)] >= MIN_GROUP else "suppressed") for k, v in (strata or {}).items()}
            out.append({"poll_id": poll.id, "ballot": i, "content": _scrub(content), "strata": safe})
    return out


def tally_rows(session: Session, panel_id: int | None) -> list[dict[str, Any]]:
    return [{"poll_id": p.id, "panel_id": p.panel_id, "title": p.title, "ballot_type": p.ballot_type,
             "method": p.method, "seats": p.seats, "ballots": (p.result or {}).get("ballots"),
             "winners": (p.result or {}).get("winners"), "result": _scrub(p.result)}
            for p in _published_polls(session, panel_id)]


def recommendation_rows(session: Session, panel_id: int | None) -> list[dict[str, Any]]:
    stmt = select(Recommendation).where(Recommendation.status == "published").order_by(Recommendation.id)
    if panel_id is not None:
        stmt = stmt.where(Recommendation.panel_id == panel_id)
    out = []
    for rec in session.execute(stmt).scalars():
        cur = recommendations.current(session, rec)
        sup = rec.support or {}
        out.append({"recommendation_id": rec.id, "panel_id": rec.panel_id, "title": rec.title,
                    "version": cur.version, "text": cur.text, "rationale": cur.rationale,
                    "minority_opinions": cur.minority_opinions, "evidence": cur.evidence,
                    "published_at": _iso(rec.published_at), "poll_id": sup.get("poll_id"),
                    "support_yes": (sup.get("overall") or {}).get("yes"),
                    "support_no": (sup.get("overall") or {}).get("no"),
                    "support_abstain": (sup.get("overall") or {}).get("abstain"),
                    "bridging": sup.get("bridging"), "population_weighted": sup.get("population_weighted"),
                    "support_by_group": recommendations.public_groups(sup)})
    return out


def response_rows(session: Session, panel_id: int | None) -> list[dict[str, Any]]:
    stmt = (select(Response, Delivery, Mission, Recommendation)
            .join(Delivery, Delivery.id == Response.delivery_id).join(Mission, Mission.id == Delivery.mission_id)
            .join(Recommendation, Recommendation.id == Delivery.recommendation_id)
            .where(Recommendation.status == "published").order_by(Response.id))
    if panel_id is not None:
        stmt = stmt.where(Recommendation.panel_id == panel_id)
    rows = session.execute(stmt).tuples().all()
    by_response: dict[int, list[Commitment]] = {}
    ids = [r.id for r, *_ in rows]
    for i in range(0, len(ids), 500):
        for c in session.execute(select(Commitment).where(Commitment.response_id.in_(ids[i:i + 500]))
                                 .order_by(Commitment.id)).scalars():
            by_response.setdefault(c.response_id, []).append(c)
    out = []
    for r, d, m, rec in rows:
        cs = by_response.get(r.id, [])
        out.append({"response_id": r.id, "recommendation_id": rec.id, "panel_id": rec.panel_id,
                    "mission": m.country_code, "mission_name": m.name, "un_regional_group": m.region,
                    "version": r.version, "stance": r.stance, "explanation": r.explanation, "late": r.late,
                    "due_at": _iso(d.due_at), "created_at": _iso(r.created_at),
                    "commitments": [{"text": c.text, "due_at": _iso(c.due_at), "met_at": _iso(c.met_at)}
                                    for c in cs]})
    return out


def mission_rows(session: Session, panel_id: int | None) -> list[dict[str, Any]]:
    return [{"mission": m.country_code, "name": m.name, "un_regional_group": m.region,
             "geoscheme_region": missions.geo_region(m.country_code)} for m in missions.list_missions(session)]


DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("panels", "Citizens' panels", "Every public panel: question, status, seats, languages.",
            ("panel_id", "slug", "title", "question", "status", "seats", "languages", "created_at"), panels_rows),
    Dataset("pool-statistics", "Volunteer pool and panel composition (aggregate)",
            "Per panel, feature and value: population share, quota, pool and panel counts (groups under 5 merged).",
            ("panel_id", "feature", "value", "population_share", "quota_min", "quota_max", "pool_count",
             "panel_count"), pool_rows),
    Dataset("lotteries", "Lottery transcripts", "Algorithm, pre-announced seed, input digest and transcript.",
            ("lottery_id", "panel_id", "kind", "algorithm", "algorithm_version", "seed", "seed_announced_at",
             "input_digest", "min_probability", "selected_count", "finished_at", "transcript"), lottery_rows),
    Dataset("ballots", "Anonymised ballots", "Ballot contents of published polls, strata under 5 suppressed.",
            ("poll_id", "ballot", "content", "strata"), ballot_rows),
    Dataset("tallies", "Vote tallies", "Published poll results.",
            ("poll_id", "panel_id", "title", "ballot_type", "method", "seats", "ballots", "winners", "result"),
            tally_rows),
    Dataset("recommendations", "Recommendations", "Published recommendations with their support figures.",
            ("recommendation_id", "panel_id", "title", "version", "text", "rationale", "minority_opinions",
             "evidence", "published_at", "poll_id", "support_yes", "support_no", "support_abstain", "bridging",
             "population_weighted", "support_by_group"), recommendation_rows),
    Dataset("responses", "Mission responses", "Every version of every mission's answer, with commitments.",
            ("response_id", "recommendation_id", "panel_id", "mission", "mission_name", "un_regional_group",
             "version", "stance", "explanation", "late", "due_at", "created_at", "commitments"), response_rows),
    Dataset("missions", "Missions", "The member states' missions with UN regional group and geoscheme region.",
            ("mission", "name", "un_regional_group", "geoscheme_region"), mission_rows),
)}
FORMATS = ("csv", "json")


def parse_panel_id(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit() or len(value) > 12:
        raise ValidationFailed("panel_id must be a whole number.", field="panel_id")
    return int(value)


def dataset(name: str, fmt: str) -> Dataset:
    if name not in DATASETS:
        raise NotFound(f"No dataset {name!r}. See /open-data/index.json for the list.", field="dataset")
    if fmt not in FORMATS:
        raise NotFound(f"Format {fmt!r} is not offered; use .csv or .json.", field="format")
    return DATASETS[name]


def as_json(session: Session, ds: Dataset, panel_id: int | None) -> str:
    return json.dumps({"dataset": ds.name, "title": ds.title, "schema_version": SCHEMA_VERSION,
                       "generated_at": _iso(utcnow()), "fields": list(ds.fields), "rows": ds.rows(session, panel_id)},
                      ensure_ascii=False, default=str, indent=1)


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return "" if value is None else value


def as_csv(session: Session, ds: Dataset, panel_id: int | None) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(ds.fields), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    rows: Iterable[dict[str, Any]] = ds.rows(session, panel_id)
    for row in rows:
        w.writerow({k: _cell(row.get(k)) for k in ds.fields})
    return buf.getvalue()


def catalogue(base_url: str) -> dict[str, Any]:
    base = base_url.rstrip("/")
    return {
        "title": "Pnyx open data", "schema_version": SCHEMA_VERSION, "license": "CC-BY-4.0",
        "documentation": "docs/open-data.md", "generated_at": _iso(utcnow()),
        "datasets": [{"identifier": d.name, "title": d.title, "description": d.description,
                      "schema_version": SCHEMA_VERSION, "fields": list(d.fields),
                      "distributions": [{"format": "text/csv" if f == "csv" else "application/json",
                                         "url": f"{base}/open-data/{d.name}.{f}"} for f in FORMATS]}
                     for d in DATASETS.values()],
    }
