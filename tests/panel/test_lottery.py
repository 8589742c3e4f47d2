"""The lottery in the app: seed announced before the draw, background draw with progress, the
probability chart, the public transcript and its downloads, and who may do what."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from panel.extensions import db as _db
from panel.models import AuditEvent, Job, Lottery, Volunteer
from panel.services import jobs, lottery, panels
from tests.panel.lottery_fixtures import CATEGORIES, announce, people_csv, post, upload


def _lottery(db):
    return db.session.execute(select(Lottery).order_by(Lottery.id.desc())).scalars().first()


def _actions(db):
    return [a for (a,) in db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id))]


@pytest.fixture
def pooled(client, auth, users):
    """The test panel (10 seats) with a 30-person pool, organizer signed in."""
    auth.as_user(users["organizer"])
    assert upload(client, users["panel"].id).status_code == 302
    return users


def test_announce_freezes_inputs_and_is_public(db, client, auth, pooled):
    panel = pooled["panel"]
    resp = announce(client, panel.id, seed="EuroMillions 2026-11-28: 04 11 23 38 45")
    assert resp.status_code == 302
    lot = _lottery(db)
    assert lot.status == "pending" and lot.seed == "EuroMillions 2026-11-28: 04 11 23 38 45"
    assert len(lot.input_digest) == 64 and lot.seed_announced_at is not None
    assert "lottery.seed_announced" in _actions(db)
    # The pool is frozen from now on.
    assert upload(client, panel.id, people=people_csv(40)).status_code == 409
    # Anyone can see the seed and the frozen inputs, without signing in.
    auth.signout()
    page = client.get(f"/lottery/{lot.id}").get_data(as_text=True)
    assert "EuroMillions 2026-11-28" in page and lot.input_digest in page and "not been published" in page
    people = client.get(f"/lottery/{lot.id}/people.csv")
    assert people.status_code == 200 and people.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(people.get_data(as_text=True))))
    assert rows[0] == ["id", "gender", "age"] and len(rows) == 31  # ids and features only: no names or emails
    assert "@" not in people.get_data(as_text=True)
    cats = client.get(f"/lottery/{lot.id}/categories.csv").get_data(as_text=True)
    assert cats.startswith("feature,value,min,max\n") and "gender,female,4,6" in cats


@pytest.mark.parametrize("seed,algorithm,field", [("", "leximin", "seed"), ("x" * 201, "leximin", "seed"),
                                                  ("line\nbreak", "leximin", "seed"), ("ok", "magic", "algorithm")])
def test_announce_rejects_bad_input(db, client, pooled, seed, algorithm, field):
    resp = announce(client, pooled["panel"].id, seed=seed, algorithm=algorithm)
    assert resp.status_code == 422
    assert _db.session.execute(select(func.count(Lottery.id))).scalar_one() == 0


def test_announce_twice_conflicts(db, client, pooled):
    assert announce(client, pooled["panel"].id).status_code == 302
    assert announce(client, pooled["panel"].id, seed="another").status_code == 409
    assert db.session.execute(select(func.count(Lottery.id))).scalar_one() == 1


def test_announce_without_pool(db, client, auth, users):
    auth.as_user(users["organizer"])
    resp = announce(client, users["panel"].id)
    assert resp.status_code == 422 and "Upload the pool" in resp.get_data(as_text=True)


@pytest.mark.parametrize("role", ["other_organizer", "observer", "facilitator", "citizen"])
def test_announce_forbidden(db, client, auth, pooled, role):
    auth.signout()
    auth.as_user(pooled[role])
    assert announce(client, pooled["panel"].id).status_code == 403
    assert db.session.execute(select(func.count(Lottery.id))).scalar_one() == 0


def test_draw_is_queued_not_run_in_the_request(db, client, pooled):
    announce(client, pooled["panel"].id)
    lot = _lottery(db)
    resp = post(client, f"/lotteries/{lot.id}/draw")
    assert resp.status_code == 302 and f"/lotteries/{lot.id}/progress" in resp.headers["Location"]
    db.session.refresh(lot)
    job = db.session.get(Job, lot.transcript["job_id"])
    assert lot.status == "running" and job.status == "queued" and lot.probabilities is None
    page = client.get(f"/lotteries/{lot.id}/progress").get_data(as_text=True)
    assert f'data-job-url="/jobs/{job.id}.json"' in page and "job-progress.js" in page
    assert "<script>" not in page and " style=" not in page
    # A second press does not queue a second draw.
    assert post(client, f"/lotteries/{lot.id}/draw").status_code == 409


@pytest.mark.parametrize("role", ["other_organizer", "observer", "citizen"])
def test_draw_and_progress_forbidden(db, client, auth, pooled, role):
    announce(client, pooled["panel"].id)
    lot = _lottery(db)
    auth.signout()
    auth.as_user(pooled[role])
    assert post(client, f"/lotteries/{lot.id}/draw").status_code == 403
    assert client.get(f"/lotteries/{lot.id}/progress").status_code == 403
    db.session.refresh(lot)
    assert lot.status == "pending"


@pytest.mark.parametrize("role,status", [("organizer", 200), ("admin", 200), ("observer", 200),
                                         ("other_organizer", 403), ("facilitator", 403), ("citizen", 403)])
def test_lottery_page_access(client, auth, users, role, status):
    auth.as_user(users[role])
    assert client.get(f"/panels/{users['panel'].id}/lottery").status_code == status


def test_unannounced_or_unpublished_lottery_is_not_public(db, client, auth, pooled):
    assert client.get("/lottery/12345").status_code == 404
    assert client.get("/lottery/12345/people.csv").status_code == 404


# --- the draw itself (runs the real library in the job) -------------------------------------------

def test_draw_job_selects_a_panel_meeting_quotas(db, client, pooled):
    from tests.panel.lottery_fixtures import drawn

    panel = pooled["panel"]
    lot = drawn(client, db, panel.id, publish=False)
    assert len(lot.selected) == panel.size and lot.ticket is not None and 0 <= lot.ticket < lot.lottery_size
    assert sum(lot.probabilities.values()) == pytest.approx(panel.size, abs=1e-6)
    assert lot.min_probability == pytest.approx(min(lot.probabilities.values()))
    by_id = lottery.volunteers_by_pool_id(db.session, lot)  # the published ids are per-lottery pseudonyms
    chosen = [by_id[pid] for pid in lot.selected]
    assert {v.status for v in chosen} == {"selected"}
    feats = [(f, v) for c in chosen for f, v in c.features.items()]
    for line in CATEGORIES.strip().split("\n")[1:]:
        f, v, lo, hi = line.split(",")
        assert int(lo) <= feats.count((f, v)) <= int(hi)
    job = db.session.get(Job, lot.transcript["job_id"])
    assert job.status == "done" and job.progress == 1.0
    assert "lottery.drawn" in _actions(db)
    # Organizer sees the chart: server-rendered SVG, no inline style or script.
    page = client.get(f"/panels/{panel.id}/lottery").get_data(as_text=True)
    assert 'class="probability-chart"' in page and page.count("<figure class=\"chart\">") == 2
    assert " style=" not in page and "<script>" not in page
    # Not public until published.
    assert client.get(f"/lottery/{lot.id}").get_data(as_text=True).count(str(lot.selected[0])) == 0


def test_publish_makes_transcript_public_and_replayable(db, client, auth, pooled):
    from sortition.csvio import parse_categories, parse_people
    from sortition.rng import draw_ticket, input_digest
    from tests.panel.lottery_fixtures import drawn

    lot = drawn(client, db, pooled["panel"].id)
    assert lot.status == "published" and lot.published_at is not None
    assert "lottery.published" in _actions(db)
    auth.signout()
    page = client.get(f"/lottery/{lot.id}").get_data(as_text=True)
    assert f"<strong>{lot.ticket}</strong>" in page and all(pid in page for pid in lot.selected)
    assert "python -m sortition verify" in page and 'class="probability-chart"' in page
    data = json.loads(client.get(f"/lottery/{lot.id}/transcript.json").get_data(as_text=True))
    for key in ("seed", "input_digest", "algorithm", "algorithm_version", "probabilities", "ticket",
                "lottery_size", "seed_announced_at"):
        assert key in data, key
    assert data["ticket"] == lot.ticket and data["panel_ids"] == lot.selected
    # Replay from the public files alone: same digest, same ticket, same panel.
    people = client.get(f"/lottery/{lot.id}/people.csv").get_data()
    cats = parse_categories(client.get(f"/lottery/{lot.id}/categories.csv").get_data())
    pool = parse_people(people, cats)
    assert input_digest(pool, data["size"]) == data["input_digest"]
    assert draw_ticket(data["input_digest"], data["algorithm"], data["seed"], data["lottery_size"],
                       data["algorithm_version"]) == data["ticket"]


def _verify_cli(client, tmp_path, lottery_id, *extra):
    """Download the three public files and run the library's own replay command on them."""
    import subprocess
    import sys
    from pathlib import Path

    names = {}
    for kind in ("people.csv", "categories.csv", "transcript.json"):
        path = tmp_path / f"{lottery_id}-{kind}"
        path.write_bytes(client.get(f"/lottery/{lottery_id}/{kind}").get_data())
        names[kind] = str(path)
    root = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "sortition", "verify", "--people", names["people.csv"],
                           "--categories", names["categories.csv"], "--transcript", names["transcript.json"], *extra],
                          capture_output=True, text=True, cwd=root, timeout=300)


def test_published_files_verify_with_the_cli(db, client, auth, pooled, tmp_path):
    from tests.panel.lottery_fixtures import drawn

    lot = drawn(client, db, pooled["panel"].id)
    auth.signout()
    ok = _verify_cli(client, tmp_path, lot.id)
    assert ok.returncode == 0 and "verified" in ok.stdout, ok.stderr
    wrong = _verify_cli(client, tmp_path, lot.id, "--seed", "a different seed")
    assert wrong.returncode == 2 and "mismatch" in wrong.stderr


@pytest.mark.parametrize("role", ["other_organizer", "observer", "citizen"])
def test_publish_forbidden(db, client, auth, pooled, role):
    from tests.panel.lottery_fixtures import drawn

    lot = drawn(client, db, pooled["panel"].id, publish=False)
    auth.signout()
    auth.as_user(pooled[role])
    assert post(client, f"/lotteries/{lot.id}/publish").status_code == 403
    db.session.refresh(lot)
    assert lot.status == "done"


def test_infeasible_draw_fails_with_diagnosis(db, client, auth, users):
    auth.as_user(users["organizer"])
    cats = CATEGORIES.replace("gender,female,4,6", "gender,female,8,9")
    assert upload(client, users["panel"].id, categories=cats).status_code == 302
    announce(client, users["panel"].id)
    lot = _lottery(db)
    post(client, f"/lotteries/{lot.id}/draw")
    jobs.run_pending(db.session)
    db.session.refresh(lot)
    assert lot.status == "failed" and lot.error and lot.probabilities is None
    assert db.session.get(Job, lot.transcript["job_id"]).status == "failed"
    assert "lottery.failed" in _actions(db)
    page = client.get(f"/panels/{users['panel'].id}/lottery").get_data(as_text=True)
    assert "The last draw failed" in page and "gender" in page
    assert db.session.execute(select(func.count(Volunteer.id)).where(Volunteer.status != "pool")).scalar_one() == 0


# --- what the people file publishes (one policy for the lottery page and the open data) ------------

def _households_pool(client, panel_id):
    """30 volunteers with names, emails and addresses: two per household."""
    text = people_csv(30).replace("id,name,email,gender,age", "id,name,email,gender,age,address1,postcode")
    lines = text.strip().split("\n")
    lines = [lines[0]] + [f"{line},{i // 2} Main St,AB{i // 2}" for i, line in enumerate(lines[1:])]
    assert upload(client, panel_id, people="\n".join(lines) + "\n", address_columns="address1, postcode",
                  categories=CATEGORIES.replace(",4,6", ",3,7")).status_code == 302


def test_published_people_file_is_pseudonymous_and_the_same_in_open_data(db, client, auth, users, tmp_path):
    from tests.panel.lottery_fixtures import drawn

    panel = users["panel"]
    auth.as_user(users["organizer"])
    _households_pool(client, panel.id)
    panels.update_panel(db.session, users["organizer"], panel.id, status="recruiting")  # open data: past draft
    lot = drawn(client, db, panel.id)
    auth.signout()
    page_file = client.get(f"/lottery/{lot.id}/people.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(page_file)))
    # Only the pseudonym, the quota features and the household pseudonym: no name, email or address column.
    assert rows[0] == ["id", "gender", "age", "household"]
    assert not {"name", "email", "address1", "postcode", "country"} & set(rows[0])
    assert "@" not in page_file and "Main St" not in page_file and "Person" not in page_file
    vols = db.session.execute(select(Volunteer).where(Volunteer.panel_id == panel.id)).scalars().all()
    ids, homes = {r[0] for r in rows[1:]}, {r[3] for r in rows[1:]}
    assert len(ids) == 30 and all(i.startswith("p-") for i in ids)
    assert not ids & {v.external_id for v in vols}  # not the ids volunteers signed up with
    assert len(homes) == 15 and not homes & {v.household for v in vols}  # nor the stored household keys
    assert set(lot.selected) <= ids and lottery.pool_id(lot, vols[0].external_id) in ids
    # The open-data export carries the very same file, and its digest.
    (row,) = client.get(f"/open-data/lotteries.json?panel_id={panel.id}").get_json()["rows"]
    inputs = row["transcript"]["inputs"]
    assert inputs["people_csv"] == page_file and inputs["people_ids"] == lottery.PSEUDONYMS
    assert inputs["people_rows"] == 30
    # ...so the draw replays from the open-data files alone.
    transcript = json.loads(client.get(f"/lottery/{lot.id}/transcript.json").get_data(as_text=True))
    assert transcript["people_ids"] == lottery.PSEUDONYMS
    paths = {}
    for name, body in (("people", inputs["people_csv"]), ("categories", inputs["categories_csv"]),
                       ("transcript", json.dumps(transcript))):
        paths[name] = tmp_path / f"open-{name}"
        paths[name].write_text(body)
    result = _run_verify(paths["people"], paths["categories"], paths["transcript"])
    assert result.returncode == 0 and "verified" in result.stdout, result.stderr
    # The same person has another pseudonym in another lottery (no linking across draws).
    other = Lottery(panel_id=panel.id, seed="x", pseudonym_key="00" * 32)
    assert lottery.pool_id(other, vols[0].external_id) != lottery.pool_id(lot, vols[0].external_id)


def test_lottery_announced_before_pseudonyms_still_verifies(db, client, auth, pooled, tmp_path):
    """A lottery frozen with the pool ids as uploaded (no key) keeps its files, digest and replay."""
    from panel.services import lottery_engine
    from panel.services import pool as pool_service

    panel = pooled["panel"]
    assert announce(client, panel.id).status_code == 302
    lot = _lottery(db)
    legacy = pool_service.pool_files(db.session, panel)  # what announce_seed froze before pseudonyms
    lot.pseudonym_key = None
    lot.transcript = {"inputs": {"people_csv": legacy.people_csv, "categories_csv": legacy.categories_csv,
                                 "address_columns": [], "size": panel.size}}
    lot.input_digest = lottery_engine.input_digest(pool_service.load_pool(legacy), panel.size)
    db.session.commit()
    assert post(client, f"/lotteries/{lot.id}/draw").status_code == 302
    jobs.run_pending(db.session)
    assert post(client, f"/lotteries/{lot.id}/publish").status_code == 302
    db.session.refresh(lot)
    assert lot.status == "published" and all(pid.startswith("P") for pid in lot.selected)
    chosen = db.session.execute(select(Volunteer).where(Volunteer.external_id.in_(lot.selected))).scalars().all()
    assert len(chosen) == panel.size and {v.status for v in chosen} == {"selected"}
    auth.signout()
    data = json.loads(client.get(f"/lottery/{lot.id}/transcript.json").get_data(as_text=True))
    assert data["people_ids"] == lottery.POOL_IDS
    assert "before per-lottery pseudonyms" in client.get(f"/lottery/{lot.id}").get_data(as_text=True)
    ok = _verify_cli(client, tmp_path, lot.id)
    assert ok.returncode == 0 and "verified" in ok.stdout, ok.stderr


def _run_verify(people, categories, transcript):
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.run([sys.executable, "-m", "sortition", "verify", "--people", str(people),
                           "--categories", str(categories), "--transcript", str(transcript)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2], timeout=300)
