"""Open data: catalogue, stable CSV/JSON URLs, no personal data, small groups merged or suppressed."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select

from panel.models import Ballot, Delivery, Feature, FeatureValue, Lottery, Poll, Volunteer
from panel.services import opendata, panels, responses
from tests.panel import followup_helpers as fh

SECRET_BITS = ("@", "household", "receipt", "H000")


@pytest.fixture
def world(db, users):
    """A recruiting panel with a pool (one tiny group), a lottery, a published poll and an answered recommendation."""
    panel = users["panel"]
    panels.update_panel(db.session, users["organizer"], panel.id, status="recruiting")
    feat = Feature(panel_id=panel.id, name="region", position=0)
    db.session.add(feat)
    db.session.flush()
    for i, (value, share) in enumerate((("Africa", 0.2), ("Asia", 0.6), ("Oceania", 0.01))):
        db.session.add(FeatureValue(feature_id=feat.id, value=value, min_count=0, max_count=5, share=share,
                                    position=i))
    regions = ["Africa"] * 8 + ["Asia"] * 12 + ["Oceania"] * 2
    for i, region in enumerate(regions):
        db.session.add(Volunteer(panel_id=panel.id, external_id=f"V{i}", name=f"Person {i}",
                                 email=f"p{i}@example.org", household=f"H000{i}", features={"region": region},
                                 consent=True, status="selected" if i % 2 == 0 else "pool"))
    db.session.add(Lottery(panel_id=panel.id, algorithm="leximin", seed="2026-11-27 public seed", status="done",
                           input_digest="ab" * 32, selected=["V0", "V2"], min_probability=0.1,
                           transcript={"seed": "2026-11-27 public seed", "panel": ["V0", "V2"],
                                       "inputs": {"people_csv": "id,region,household\nV0,Africa,H0001\n",
                                                  "categories_csv": "feature,value,min,max\n", "size": 2},
                                       "people": [{"id": "V0", "name": "Person 0", "email": "p0@example.org"}]}))
    poll = Poll(panel_id=panel.id, title="Adopt scorecards?", ballot_type="yesno", method="majority",
                candidates=["yes", "no", "abstain"], status="published",
                result={"ballots": 7, "winners": ["yes"], "scores": {"yes": 5, "no": 2, "abstain": 0}})
    db.session.add(poll)
    db.session.flush()
    for i in range(7):
        db.session.add(Ballot(poll_id=poll.id, receipt_hash=f"{i:064x}", content={"choice": "yes" if i < 5 else "no"},
                              strata={"region": "Asia" if i < 6 else "Oceania"}))
    db.session.commit()
    rec, ms = fh.delivered(db.session, users)
    d = db.session.execute(select(Delivery).where(Delivery.mission_id == ms["KEN"].id)).scalar_one()
    responses.submit(db.session, users["mission"], d.id, stance="reject", explanation="Not our priority.")
    return {"panel": panel, "poll": poll, "rec": rec}


def test_index_lists_every_dataset(client):
    r = client.get("/open-data/index.json")
    assert r.status_code == 200
    cat = r.get_json()
    names = {d["identifier"] for d in cat["datasets"]}
    assert names == set(opendata.DATASETS)
    assert {"panels", "pool-statistics", "lotteries", "ballots", "tallies", "recommendations", "responses"} <= names
    for d in cat["datasets"]:
        assert d["title"] and d["schema_version"] == opendata.SCHEMA_VERSION
        assert {x["format"] for x in d["distributions"]} == {"text/csv", "application/json"}
        for dist in d["distributions"]:
            assert client.get(dist["url"].replace("http://localhost.localdomain", "")).status_code == 200


def test_every_dataset_in_both_formats_has_no_personal_data(client, world, users):
    for name, ds in opendata.DATASETS.items():
        j = client.get(f"/open-data/{name}.json")
        c = client.get(f"/open-data/{name}.csv")
        assert j.status_code == 200 and c.status_code == 200, name
        body = j.get_json()
        assert body["schema_version"] == opendata.SCHEMA_VERSION and body["fields"] == list(ds.fields)
        rows = list(csv.DictReader(io.StringIO(c.get_data(as_text=True))))
        assert len(rows) == len(body["rows"]), name
        text = j.get_data(as_text=True) + c.get_data(as_text=True)
        for bit in SECRET_BITS:
            assert bit not in text, (name, bit)
        for u in ("mission", "citizen", "organizer"):
            assert users[u].email not in text
        assert "Person 0" not in text


def test_small_groups_merged_or_suppressed(client, world):
    rows = client.get("/open-data/pool-statistics.json").get_json()["rows"]
    values = {r["value"]: r for r in rows}
    assert "Oceania" not in values  # 2 volunteers: merged
    assert values["Africa"]["pool_count"] == 8 and values["Asia"]["pool_count"] == 12
    assert values["Africa"]["panel_count"] is None  # 4 seated: suppressed
    assert values["Asia"]["panel_count"] == 6
    ballots = client.get("/open-data/ballots.json").get_json()["rows"]
    assert len(ballots) == 7
    assert sorted(b["strata"]["region"] for b in ballots) == ["Asia"] * 6 + ["suppressed"]
    assert all("receipt_hash" not in b and "voter_id" not in b for b in ballots)


def test_recommendations_and_responses(client, world):
    recs = client.get("/open-data/recommendations.json").get_json()["rows"]
    assert recs[0]["title"] == world["rec"].title and recs[0]["support_yes"] == 0.7
    assert "Oceania" not in json.dumps(recs[0]["support_by_group"])
    resp = client.get("/open-data/responses.csv").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(resp)))
    assert row["mission"] == "KEN" and row["stance"] == "reject" and row["explanation"] == "Not our priority."


def test_panel_filter_and_bad_requests(client, world):
    pid = world["panel"].id
    assert len(client.get(f"/open-data/panels.json?panel_id={pid}").get_json()["rows"]) == 1
    assert client.get("/open-data/panels.json?panel_id=999").get_json()["rows"] == []
    r = client.get("/open-data/panels.json?panel_id=abc")
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "panel_id"
    r = client.get("/open-data/people.json")
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "dataset"
    assert client.get("/open-data/panels.xml").status_code == 404
    assert client.get("/open-data/panels").status_code == 404


def test_draft_panels_and_recommendations_are_not_exported(client, db, users):
    fh.draft(db.session, users)
    assert client.get("/open-data/panels.json").get_json()["rows"] == []  # the panel is still a draft
    assert client.get("/open-data/recommendations.json").get_json()["rows"] == []


def test_lottery_transcript_scrubbed(client, world):
    rows = client.get("/open-data/lotteries.json").get_json()["rows"]
    assert rows[0]["seed"] == "2026-11-27 public seed" and rows[0]["selected_count"] == 2
    assert rows[0]["transcript"]["people"] == [{"id": "V0"}]
    inputs = rows[0]["transcript"]["inputs"]
    assert "people_csv" not in inputs and inputs["people_rows"] == 1 and len(inputs["people_csv_sha256"]) == 64
    assert inputs["categories_csv"].startswith("feature")
