"""A panel's volunteer pool and quotas: CSV import (sortition-algorithms format), quotas from
population shares, the pool as the library sees it, and the feasibility check.

An import replaces the panel's features, quotas and volunteers in one transaction: any error
(naming file, line and column) leaves the previous pool untouched.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask_babel import ngettext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..errors import Conflict, ValidationFailed
from ..models import Feature, FeatureValue, Lottery, Panel, User, Volunteer
from . import audit
from . import lottery_engine as engine
from .panels import get_panel
from .permissions import authorize

HOUSEHOLD_COLUMN = "household"
ID_COLUMN = "id"
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_TOLERANCE = 1000
# Volunteers outside the draw: they left, or were replaced after declining.
OUT_OF_POOL = ("withdrawn",)


def as_validation(e: engine.SortitionError) -> ValidationFailed:
    """A library error as a 422 that names file, line and column (``field`` is the column or file)."""
    return ValidationFailed(str(e), field=e.column or e.file, code=e.code)


@dataclass
class ImportSummary:
    volunteers: int
    features: dict[str, list[str]]
    households: bool
    people_sha256: str
    categories_sha256: str
    source: str


@dataclass
class Feasibility:
    ok: bool
    message: str = ""
    diagnosis: dict[str, Any] = field(default_factory=dict)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def too_small(people: int, seats: int) -> str:
    """The one wording for "fewer volunteers than seats", shared by the upload, the feasibility check and the
    seed announcement (a pool of one person says "1 person")."""
    return (ngettext("The pool has %(num)d person", "The pool has %(num)d people", people) + " "
            + ngettext("but the panel has %(num)d seat.", "but the panel has %(num)d seats.", seats))


def _contact_columns(text: str, people_file: str, ids: set[str]) -> dict[str, dict[str, str]]:
    """Name, email and country per id, from optional columns; checked like every other cell."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    idx = {name: header.index(name) for name in ("id", "nationbuilder_id", "name", "first_name", "last_name",
                                                  "email", "country") if name in header}
    id_col = idx.get("id", idx.get("nationbuilder_id"))
    out: dict[str, dict[str, str]] = {}
    if id_col is None:
        return out
    for row in reader:
        row = [c.strip() for c in row] + [""] * (len(header) - len(row))
        pid = row[id_col]
        if pid not in ids or pid in out:
            continue
        line = reader.line_num
        name = row[idx["name"]] if "name" in idx else " ".join(
            row[idx[k]] for k in ("first_name", "last_name") if k in idx).strip()
        email = row[idx["email"]].lower() if "email" in idx else ""
        country = row[idx["country"]].upper() if "country" in idx else ""
        if email and not EMAIL_RE.match(email):
            raise ValidationFailed(f"{people_file}, line {line}, column 'email': {email!r} is not an email address",
                                   field="email")
        if len(name) > 200:
            raise ValidationFailed(f"{people_file}, line {line}, column 'name': longer than 200 characters",
                                   field="name")
        if country and not re.fullmatch(r"[A-Z]{2,3}", country):
            raise ValidationFailed(f"{people_file}, line {line}, column 'country': use a 2- or 3-letter ISO code",
                                   field="country")
        out[pid] = {"name": name, "email": email, "country": country}
    return out


def _check_lengths(pool: engine.Pool, people_file: str, categories_file: str) -> None:
    cats = pool.categories
    for f in cats.features:
        if len(f) > 80:
            raise ValidationFailed(f"{categories_file}: feature name {f[:40]!r}… is longer than 80 characters",
                                   field="feature")
        if f.lower() in (ID_COLUMN, HOUSEHOLD_COLUMN):
            raise ValidationFailed(f"{categories_file}: {f!r} cannot be a feature name (it is reserved)",
                                   field="feature")
        for v in cats.values[f]:
            if len(v) > 120:
                raise ValidationFailed(f"{categories_file}: value {v[:40]!r}… is longer than 120 characters",
                                       field="value")
    for p in pool.people:
        if len(p.id) > 80:
            raise ValidationFailed(f"{people_file}, line {p.line}: id is longer than 80 characters", field="id")


def _frozen(session: Session, panel_id: int) -> None:
    """The pool is fixed once a seed is announced or a lottery has been drawn."""
    blocking = session.execute(
        select(Lottery.status).where(Lottery.panel_id == panel_id, Lottery.status != "failed").limit(1)
    ).scalar()
    if blocking:
        raise Conflict("A lottery seed has been announced or a lottery drawn for this panel, so its pool and "
                       "quotas are frozen. Open a new panel to use another pool.", code="pool_frozen")
    busy = session.execute(
        select(func.count(Volunteer.id)).where(Volunteer.panel_id == panel_id, Volunteer.status != "pool")
    ).scalar_one()
    if busy:
        raise Conflict(ngettext("%(num)d volunteer of this panel is already selected or invited; the pool can no "
                                "longer be replaced.",
                                "%(num)d volunteers of this panel are already selected or invited; the pool can no "
                                "longer be replaced.", busy), code="pool_frozen")


def import_pool(session: Session, user: User, panel_id: int, *, people: bytes, people_name: str = "people.csv",
                categories: bytes | None = None, categories_name: str = "categories.csv",
                shares: bytes | None = None, shares_name: str = "shares.csv", tolerance: float = 1,
                address_columns: str = "") -> ImportSummary:
    """Replace the panel's quotas and pool with the uploaded files (all or nothing)."""
    panel = get_panel(session, panel_id)
    authorize(session, user, "pool.manage", panel.id)
    _frozen(session, panel.id)
    if not people:
        raise ValidationFailed("Choose the people (pool) CSV file.", field="people")
    if (categories is None) == (shares is None):
        raise ValidationFailed("Upload either a categories file (feature, value, min, max) or a population "
                               "shares file (feature, value, share) — exactly one.", field="categories")
    addr = [a.strip() for a in address_columns.split(",") if a.strip()]
    try:
        if shares is not None:
            if not 0 <= tolerance <= MAX_TOLERANCE:
                raise ValidationFailed("Tolerance must be between 0 and 1000 seats.", field="tolerance")
            if not shares:
                raise ValidationFailed("The shares file is empty.", field="shares")
            parsed, nested = engine.parse_shares(shares, shares_name)
            if not parsed:
                raise ValidationFailed(f"{shares_name}: no rows with shares", field="shares")
            quotas = engine.quotas_from_shares(parsed, panel.size, tolerance, nested)
            share_of = _shares_lookup(parsed, nested)
            cats_bytes = engine.categories_csv(quotas).encode()
            cats = engine.parse_categories(cats_bytes, categories_name)
            source, cats_digest = shares_name, _sha(shares)
        else:
            assert categories is not None
            if not categories:
                raise ValidationFailed("The categories file is empty.", field="categories")
            cats = engine.parse_categories(categories, categories_name)
            share_of, source, cats_digest = {}, categories_name, _sha(categories)
        pool = engine.parse_people(people, cats, file=people_name, address_columns=addr)
    except engine.SortitionError as e:
        raise as_validation(e) from None
    _check_lengths(pool, people_name, categories_name)
    if len(pool.people) < panel.size:
        raise ValidationFailed(f"{people_name}: " + too_small(len(pool.people), panel.size)
                               + " A pool must be at least as large as the panel.",
                               field="people", code="pool_too_small")
    contacts = _contact_columns(engine.decode(people, people_name), people_name, set(pool.ids))

    session.execute(delete(Volunteer).where(Volunteer.panel_id == panel.id))
    feature_ids = select(Feature.id).where(Feature.panel_id == panel.id)
    session.execute(delete(FeatureValue).where(FeatureValue.feature_id.in_(feature_ids)))
    session.execute(delete(Feature).where(Feature.panel_id == panel.id))
    session.expire(panel, ["features"])
    for pos, fname in enumerate(pool.categories.features):
        feature = Feature(panel_id=panel.id, name=fname, position=pos)
        session.add(feature)
        session.flush()
        for vpos, value in enumerate(pool.categories.values[fname]):
            q = pool.categories.quotas[(fname, value)]
            session.add(FeatureValue(feature_id=feature.id, value=value, min_count=q.min, max_count=q.max,
                                     share=share_of.get((fname, value)), position=vpos))
    feats = pool.categories.features
    for p in pool.people:
        c = contacts.get(p.id, {})
        household = (hashlib.sha256("\x1f".join(p.household).encode()).hexdigest()[:16]
                     if p.household else None)
        session.add(Volunteer(panel_id=panel.id, external_id=p.id, name=c.get("name", ""),
                              email=c.get("email") or None, country=c.get("country") or None,
                              features=dict(zip(feats, p.values, strict=True)), household=household,
                              consent=True))
    summary = ImportSummary(volunteers=len(pool.people), features={f: list(pool.categories.values[f]) for f in feats},
                            households=bool(addr), people_sha256=_sha(people), categories_sha256=cats_digest,
                            source=source)
    audit.record(session, "pool.imported", actor_id=user.id, panel_id=panel.id, subject_type="panel",
                 subject_id=panel.id, payload={
                     "volunteers": summary.volunteers, "features": feats, "households": summary.households,
                     "people_file": people_name, "people_sha256": summary.people_sha256,
                     "quota_source": source, "quota_sha256": cats_digest,
                     "tolerance": tolerance if shares is not None else None})
    session.commit()
    return summary


def _shares_lookup(shares: dict[str, dict[str, float]],
                   nested: dict[str, tuple[str, dict[str, str]]]) -> dict[tuple[str, str], float]:
    """Each value's share of the whole population (nested values: of everyone, not of their parent)."""
    out = {}
    for f, values in shares.items():
        total = sum(values.values())
        for v, s in values.items():
            out[(f, v)] = s / total if total > 0 else 0.0
    return out


@dataclass
class PoolFiles:
    """The pool as published and as given to the library: ids, features, pseudonymous households only."""

    people_csv: str
    categories_csv: str
    address_columns: tuple[str, ...]


def new_pseudonym_key() -> str:
    """A fresh secret for one lottery's pseudonyms (kept on the lottery, never published)."""
    return secrets.token_hex(32)


def pseudonym(key: str, kind: str, value: str) -> str:
    """``p-…`` (person) or ``h-…`` (household): HMAC-SHA256 of the pool id or household key under the
    lottery's secret key, 16 hex digits (64 bits: a collision is refused by the id check, never silent).

    Without the key nobody can link a pseudonym to a pool id, to an address, or to the same person in
    another lottery; with it the app maps the drawn pseudonyms back to its volunteers."""
    mac = hmac.new(bytes.fromhex(key), f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"{kind[0]}-{mac}"


def pool_files(session: Session, panel: Panel, *, exclude_statuses: tuple[str, ...] = OUT_OF_POOL,
               key: str | None = None) -> PoolFiles:
    """The people and categories files the library reads and the public downloads.

    With ``key`` (every lottery announced now) the people file is the published, pseudonymised one:
    an id column of per-lottery pseudonyms, the quota feature columns, and per-lottery household
    pseudonyms; rows in pseudonym order so the order says nothing about sign-up. Without it (the pool
    page's feasibility check, which publishes nothing) the pool ids are used as uploaded."""
    features = list(panel.features)
    quotas = [engine.Quota(f.name, v.value, v.min_count, v.max_count) for f in features for v in f.values]
    vols = session.execute(
        select(Volunteer).where(Volunteer.panel_id == panel.id, Volunteer.status.not_in(exclude_statuses))
        .order_by(Volunteer.external_id)
    ).scalars().all()
    households = any(v.household for v in vols)
    rows = []
    for v in vols:
        # A person without an address gets a household of their own.
        home = v.household or f"solo-{v.external_id}"
        pid = v.external_id if key is None else pseudonym(key, "person", v.external_id)
        row = [pid] + [str(v.features.get(f.name, "")) for f in features]
        if households:
            row.append(home if key is None else pseudonym(key, "household", home))
        rows.append(row)
    if key is not None:
        rows.sort(key=lambda r: r[0])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([ID_COLUMN] + [f.name for f in features] + ([HOUSEHOLD_COLUMN] if households else []))
    writer.writerows(rows)
    return PoolFiles(out.getvalue(), engine.categories_csv(quotas),
                     (HOUSEHOLD_COLUMN,) if households else ())


def load_pool(files: PoolFiles) -> engine.Pool:
    """Parse published files back into the library's pool (exactly what a replayer will do)."""
    try:
        cats = engine.parse_categories(files.categories_csv, "categories.csv")
        return engine.parse_people(files.people_csv, cats, file="people.csv", address_columns=files.address_columns)
    except engine.SortitionError as e:
        raise as_validation(e) from None


@dataclass
class GroupRow:
    feature: str
    value: str
    min: int
    max: int
    share: float | None
    in_pool: int


def summary(session: Session, user: User, panel_id: int) -> tuple[Panel, list[GroupRow], int]:
    """Quotas next to how many volunteers the pool holds per value."""
    panel = get_panel(session, panel_id)
    authorize(session, user, "pool.view", panel.id)
    vols = session.execute(select(Volunteer.features).where(Volunteer.panel_id == panel.id)).scalars().all()
    counts: Counter[tuple[str, str]] = Counter()
    for feats in vols:
        for k, v in feats.items():
            counts[(k, str(v))] += 1
    rows = [GroupRow(f.name, v.value, v.min_count, v.max_count, v.share, counts[(f.name, v.value)])
            for f in panel.features for v in f.values]
    return panel, rows, len(vols)


def feasibility(session: Session, panel: Panel) -> Feasibility:
    """Can a panel meeting every quota be drawn from the pool as it stands? (One small MILP over types.)"""
    import time

    files = pool_files(session, panel)
    pool = load_pool(files)
    if len(pool.people) < panel.size:
        message = too_small(len(pool.people), panel.size)
        return Feasibility(False, message, {"reasons": [message]})
    digest = engine.input_digest(pool, panel.size)
    cached = _FEASIBILITY_CACHE.get(digest)
    if cached is not None:
        return cached
    started = time.perf_counter()
    try:
        diagnosis = engine.check_feasibility(pool, panel.size)
    except engine.SortitionError as e:
        return Feasibility(False, str(e))
    seconds = time.perf_counter() - started
    if diagnosis is None:
        result = Feasibility(True, f"(checked in {seconds:.2f} s)")
    else:
        result = Feasibility(False, diagnosis.describe(), engine.diagnosis_dict(diagnosis))
    # Same inputs, same answer: a diagnosis of a large infeasible pool takes seconds, so pages
    # viewed again (or by several people) reuse it.
    if len(_FEASIBILITY_CACHE) >= 64:
        _FEASIBILITY_CACHE.pop(next(iter(_FEASIBILITY_CACHE)))
    _FEASIBILITY_CACHE[digest] = result
    return result


_FEASIBILITY_CACHE: dict[str, Feasibility] = {}


def apply_relaxation(session: Session, user: User, panel_id: int) -> list[dict[str, Any]]:
    """Change the quotas to the smallest relaxation the diagnosis suggests (audited, all or nothing)."""
    panel = get_panel(session, panel_id)
    authorize(session, user, "pool.manage", panel.id)
    _frozen(session, panel.id)
    result = feasibility(session, panel)
    if result.ok:
        raise Conflict("The quotas can already be met; there is nothing to relax.", code="already_feasible")
    changes = result.diagnosis.get("relaxation") or []
    if not changes:
        raise Conflict("No change of the quotas alone makes a panel possible: the pool is too small or "
                       "households rule out too many people.", code="no_relaxation")
    rows = {(f.name, v.value): v for f in panel.features for v in f.values}
    for change in changes:
        value = rows[(change["feature"], change["value"])]
        value.min_count, value.max_count = int(change["new_min"]), int(change["new_max"])
    audit.record(session, "quotas.relaxed", actor_id=user.id, panel_id=panel.id, subject_type="panel",
                 subject_id=panel.id, payload={"changes": changes, "cost": result.diagnosis.get("relaxation_cost")})
    session.commit()
    return list(changes)
