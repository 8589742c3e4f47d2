"""The panel report: HTML page and a PDF of the same content (rendered to PNG to check its pages)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from panel.models import (
    DeliberationSession,
    Delivery,
    Feature,
    FeatureValue,
    Lottery,
    PanelMember,
    Room,
    SpeakingTurn,
    Volunteer,
)
from panel.models.base import utcnow
from panel.services import panels, report, responses
from tests import helpers
from tests.panel import followup_helpers as fh

pdfium = pytest.importorskip("pypdfium2")


@pytest.fixture
def reported(db, users):
    panel = users["panel"]
    feat = Feature(panel_id=panel.id, name="region", position=0)
    db.session.add(feat)
    db.session.flush()
    for i, (value, share) in enumerate((("Africa", 0.18), ("Asia", 0.59), ("Europe", 0.23))):
        db.session.add(FeatureValue(feature_id=feat.id, value=value, min_count=1, max_count=9, share=share,
                                    position=i))
    regions = ["Africa"] * 6 + ["Asia"] * 10 + ["Europe"] * 6
    session_row = DeliberationSession(panel_id=panel.id, title="Plenary 1")
    db.session.add(session_row)
    db.session.flush()
    room = Room(panel_id=panel.id, session_id=session_row.id, kind="plenary", name="Plenary")
    db.session.add(room)
    db.session.flush()
    t0 = utcnow() - timedelta(hours=2)
    for i, region in enumerate(regions):
        vol = Volunteer(panel_id=panel.id, external_id=f"V{i}", features={"region": region}, consent=True,
                        status="accepted" if i % 2 == 0 else "pool")
        db.session.add(vol)
        db.session.flush()
        citizen = helpers.make_user(db.session, "citizen", f"c{i}@test.example")
        db.session.add(PanelMember(panel_id=panel.id, user_id=citizen.id, role="citizen", status="accepted",
                                   volunteer_id=vol.id))
        db.session.add(SpeakingTurn(room_id=room.id, user_id=citizen.id, started_at=t0 + timedelta(minutes=i),
                                    ended_at=t0 + timedelta(minutes=i, seconds=30 + 10 * (region == "Asia"))))
    db.session.add(Lottery(panel_id=panel.id, algorithm="leximin", seed="announced-seed-42", status="done",
                           input_digest="cd" * 32, min_probability=0.0213))
    db.session.commit()
    rec, ms = fh.delivered(db.session, users)
    d = db.session.execute(select(Delivery).where(Delivery.mission_id == ms["KEN"].id)).scalar_one()
    responses.submit(db.session, users["mission"], d.id, stance="accept")
    return panel, rec


def test_report_data(db, reported):
    panel, rec = reported
    rep = report.build(db.session, panel.id)
    assert rep.pool_size == 22 and rep.seated == 11
    rows = {r.value: r for r in rep.features["region"]}
    assert rows["Asia"].panel_count == 5 and rows["Africa"].panel_count is None  # 3 seated: suppressed
    assert rep.sessions == 1 and rep.rooms == 1
    assert {g for g, _t, _m in rep.speaking} == {"Africa", "Asia", "Europe"}
    assert abs(sum(t for _g, t, _m in rep.speaking) - 1) < 1e-9
    assert rep.recs[0][0].id == rec.id and rep.recs[0][3]["accept"] == 1


def test_report_page_public_once_published(client, db, reported):
    panel, rec = reported
    r = client.get(f"/public/panels/{panel.id}/report")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for text in (panel.question, "announced-seed-42", "Representativeness by region", "Speaking-time equity",
                 rec.title, "Minority opinions", "<svg"):
        assert text in html, text
    assert 'style="' not in html and "<script" not in html


def test_report_pdf_renders_to_pages(client, db, reported, tmp_path):
    panel, rec = reported
    r = client.get(f"/public/panels/{panel.id}/report.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    doc = pdfium.PdfDocument(r.data)
    assert len(doc) >= 1
    text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    for needle in ("How the panel was selected", "announced-seed-42", rec.title, "Mission of Kenya: accept"):
        assert needle in text, needle
    out = helpers_output_dir()
    for i in range(len(doc)):
        image = doc[i].render(scale=1).to_pil()
        assert image.size[0] > 500 and image.size[1] > 700
        # A blank page would be one colour; ours has text and the embedded charts.
        assert len(set(image.convert("L").getdata())) > 10
        image.save(out / f"report-page-{i + 1}.png")


def helpers_output_dir():
    from pathlib import Path

    out = Path(__file__).resolve().parents[2] / "test-output"
    out.mkdir(exist_ok=True)
    return out


def test_report_not_public_before_anything_is_published(client, auth, db, users):
    panel = users["panel"]
    assert client.get(f"/public/panels/{panel.id}/report").status_code == 404
    assert client.get(f"/public/panels/{panel.id}/report.pdf").status_code == 404
    assert client.get("/public/panels/9999/report").status_code == 404
    auth.as_user(users["organizer"])  # the panel's own staff can preview it
    assert client.get(f"/public/panels/{panel.id}/report").status_code == 200
    auth.signout()
    auth.as_user(users["other_organizer"])
    assert client.get(f"/public/panels/{panel.id}/report").status_code == 404


def test_report_public_when_panel_reports(client, db, users):
    panel = users["panel"]
    for status in ("recruiting", "selected", "deliberating", "voting", "reporting"):
        panels.update_panel(db.session, users["organizer"], panel.id, status=status)
    assert client.get(f"/public/panels/{panel.id}/report.pdf").status_code == 200
