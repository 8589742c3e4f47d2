"""``/api/v1/polls``: read a poll, cast or change a ballot, read the published count."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for

from ..errors import Conflict
from ..extensions import db
from ..models import Poll
from ..services import ballots, polls
from .base import bp, created, current_api_user, parse_body, token_required
from .schemas import BallotIn, BallotReceipt, PollOut


def dump(p: Poll) -> dict[str, Any]:
    data = PollOut.model_validate({**{k: getattr(p, k) for k in PollOut.model_fields if k != "state"},
                                   "state": polls.voting_state(p)})
    return data.model_dump(mode="json")


@bp.get("/polls/<int:poll_id>")
@token_required
def get_poll(poll_id: int) -> Any:
    return jsonify(dump(polls.view_poll(db.session, current_api_user(), poll_id)))


@bp.post("/polls/<int:poll_id>/ballots")
@token_required
def cast_ballot(poll_id: int) -> Any:
    body = parse_body(BallotIn)
    out = ballots.cast(db.session, current_api_user(), poll_id, body.ballot, receipt=body.receipt)
    data = BallotReceipt(poll_id=out.poll_id, changed=out.changed, receipt=out.receipt).model_dump(mode="json")
    if out.changed:
        return jsonify(data)
    return created(data, url_for("api.get_poll", poll_id=poll_id))


@bp.get("/polls/<int:poll_id>/results")
@token_required
def poll_results(poll_id: int) -> Any:
    poll = polls.view_poll(db.session, current_api_user(), poll_id)
    if poll.status != "published" or not poll.result:
        raise Conflict("The count of this poll is not published yet.", field="status", code="not_published")
    return jsonify(poll.result)
