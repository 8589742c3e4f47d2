"""Small pools in the sortition-algorithms CSV format, and helpers to upload them through the pages."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient

from tests.helpers import csrf_token

CATEGORIES = "feature,value,min,max\ngender,female,4,6\ngender,male,4,6\nage,young,3,7\nage,old,3,7\n"
SHARES = "feature,value,share\ngender,female,0.5\ngender,male,0.5\nage,young,0.4\nage,old,0.6\n"


def people_csv(n: int = 30, *, extra_header: str = "", rows: list[str] | None = None) -> str:
    lines = ["id,name,email,gender,age" + extra_header]
    for i in range(n):
        gender = "female" if i % 2 else "male"
        age = "young" if i % 3 == 0 else "old"
        lines.append(f"P{i + 1:03d},Person {i + 1},p{i + 1}@example.org,{gender},{age}")
    lines.extend(rows or [])
    return "\n".join(lines) + "\n"


def upload(client: FlaskClient, panel_id: int, *, people: str | bytes | None = None,
           categories: str | bytes | None = CATEGORIES, shares: str | bytes | None = None,
           **form: Any) -> Any:
    token = csrf_token(client, f"/panels/{panel_id}/pool")
    data: dict[str, Any] = {"csrf_token": token, **form}
    people = people_csv() if people is None else people
    for key, value, name in (("people", people, "people.csv"), ("categories", categories, "categories.csv"),
                             ("shares", shares, "shares.csv")):
        if value is not None:
            raw = value.encode() if isinstance(value, str) else value
            data[key] = (io.BytesIO(raw), name)
    return client.post(f"/panels/{panel_id}/pool", data=data, content_type="multipart/form-data")


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, token_page: str = "/dashboard") -> Any:
    token = csrf_token(client, token_page)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def announce(client: FlaskClient, panel_id: int, seed: str = "public seed 2026-11-28", algorithm: str = "leximin") -> Any:
    return post(client, f"/panels/{panel_id}/lottery/seed", {"seed": seed, "algorithm": algorithm})


def drawn(client: FlaskClient, db: Any, panel_id: int, *, publish: bool = True) -> Any:
    """Announce, draw (running the queued job for real) and optionally publish; returns the lottery."""
    from sqlalchemy import select

    from panel.models import Lottery
    from panel.services import jobs

    assert announce(client, panel_id).status_code == 302
    lot = db.session.execute(select(Lottery).where(Lottery.panel_id == panel_id)).scalar_one()
    assert post(client, f"/lotteries/{lot.id}/draw").status_code == 302
    jobs.run_pending(db.session)
    db.session.refresh(lot)
    assert lot.status == "done", lot.error
    if publish:
        assert post(client, f"/lotteries/{lot.id}/publish").status_code == 302
        db.session.refresh(lot)
    return lot
