"""Pages for the Decide step: proposals, amendments, polls, voting, results and exports.

Views parse the form, call a service (which authorizes), and render. Bad input re-renders the
form with a 4xx status and the field named.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import Conflict, ServiceError, ValidationFailed
from ..errors_http import error_response
from ..extensions import db
from ..models import Poll
from ..services import ballots, panels, polls, proposals, tally_engine
from ..services.permissions import authorize, can
from . import results_view

bp = Blueprint("decisions", __name__)


def _user() -> Any:
    return current_user if current_user.is_authenticated else None


# --- proposals ------------------------------------------------------------------------------------

@bp.route("/panels/<int:panel_id>/decisions")
@login_required
def index(panel_id: int) -> Any:
    panel = panels.view_panel(db.session, current_user, panel_id)
    props = proposals.list_proposals(db.session, current_user, panel_id)
    return render_template("decisions/index.html", panel=panel, proposals=[p for p in props if not p.parent_id],
                           amendments={p.id: [a for a in props if a.parent_id == p.id] for p in props},
                           polls=polls.list_polls(db.session, current_user, panel_id),
                           state=polls.voting_state)


@bp.route("/panels/<int:panel_id>/proposals/new", methods=["GET", "POST"])
@login_required
def proposal_new(panel_id: int) -> Any:
    panel = panels.view_panel(db.session, current_user, panel_id)
    authorize(db.session, current_user, "proposal.create", panel_id)
    form = request.form
    if request.method == "POST":
        try:
            p = proposals.create_proposal(db.session, current_user, panel_id, title=form.get("title"),
                                          body=form.get("body"))
        except ServiceError as e:
            db.session.rollback()
            return render_template("decisions/proposal_new.html", panel=panel, form=form, error=e.message,
                                   field=e.field), e.status
        flash(_("Proposal saved as a draft. Organizers open it for amendments and polls."), "success")
        return redirect(url_for("decisions.proposal_detail", proposal_id=p.id))
    return render_template("decisions/proposal_new.html", panel=panel, form=form, error=None, field=None)


def _proposal_page(proposal_id: int, status: int = 200, **extra: Any) -> Any:
    view = proposals.view(db.session, current_user, proposal_id)
    panel = panels.get_panel(db.session, view.proposal.panel_id)
    ctx: dict[str, Any] = {"error": None, "field": None, "form": {}, "target": None}
    ctx.update(extra)
    return render_template("decisions/proposal.html", view=view, panel=panel,
                           polls=[p for p in polls.list_polls(db.session, current_user, panel.id)
                                  if p.proposal_id == view.proposal.id],
                           moves=sorted(proposals.STATUS_MOVES[view.proposal.status]), **ctx), status


@bp.route("/proposals/<int:proposal_id>")
@login_required
def proposal_detail(proposal_id: int) -> Any:
    return _proposal_page(proposal_id)


@bp.route("/proposals/<int:proposal_id>/<any(revise, amend, status):action>", methods=["POST"])
@login_required
def proposal_action(proposal_id: int, action: str) -> Any:
    form = request.form
    proposal = proposals.get_proposal(db.session, proposal_id)
    try:
        if action == "revise":
            proposals.revise(db.session, current_user, proposal_id, body=form.get("body"), title=form.get("title"))
            flash(_("New version saved; earlier versions stay readable."), "success")
        elif action == "amend":
            a = proposals.create_proposal(db.session, current_user, proposal.panel_id, title=form.get("title"),
                                          body=form.get("body"), parent_id=proposal_id)
            flash(_("Amendment submitted."), "success")
            return redirect(url_for("decisions.proposal_detail", proposal_id=a.id))
        else:
            proposals.set_status(db.session, current_user, proposal_id, form.get("status", ""))
            flash(_("Status changed."), "success")
    except ServiceError as e:
        db.session.rollback()
        if e.status == 403:
            raise
        return _proposal_page(proposal_id, e.status, error=e.message, field=e.field, form=form, target=action)
    return redirect(url_for("decisions.proposal_detail", proposal_id=proposal_id))


# --- polls: set-up and life cycle -----------------------------------------------------------------

def _parse_time(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(_("Give a date and time like 2026-12-01T14:00."), field=field) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _poll_fields(form: Any) -> dict[str, Any]:
    proposal_id = form.get("proposal_id") or None
    return {
        "title": form.get("title"), "ballot_type": form.get("ballot_type"), "method": form.get("method"),
        "candidates": form.get("candidates", ""), "seats": form.get("seats") or 1,
        "score_min": form.get("score_min") or 0, "score_max": form.get("score_max") or 5,
        "grade_scale": form.get("grade_scale") or None, "secret": form.get("secret") == "on",
        "opens_at": _parse_time(form.get("opens_at"), "opens_at"),
        "closes_at": _parse_time(form.get("closes_at"), "closes_at"),
        "proposal_id": int(proposal_id) if proposal_id and proposal_id.isdigit() else None,
    }


@bp.route("/panels/<int:panel_id>/polls/new", methods=["GET", "POST"])
@login_required
def poll_new(panel_id: int) -> Any:
    panel = panels.view_panel(db.session, current_user, panel_id)
    authorize(db.session, current_user, "poll.manage", panel_id)
    props = proposals.list_proposals(db.session, current_user, panel_id)
    form: Any = request.form
    if request.method == "GET":
        form = _prefill(props, request.args.get("proposal_id", type=int))
    ctx = {"panel": panel, "proposals": props, "methods": tally_engine.methods(),
           "default_grades": "\n".join(tally_engine.DEFAULT_GRADE_SCALE)}
    if request.method == "POST":
        try:
            poll = polls.create_poll(db.session, current_user, panel_id, **_poll_fields(form))
        except ServiceError as e:
            db.session.rollback()
            return render_template("decisions/poll_new.html", form=form, error=e.message, field=e.field,
                                   **ctx), e.status
        flash(_("Poll created as a draft. Check it, then open it for voting."), "success")
        return redirect(url_for("decisions.poll_detail", poll_id=poll.id))
    return render_template("decisions/poll_new.html", form=form, error=None, field=None, **ctx)


def _prefill(props: list[Any], proposal_id: int | None) -> dict[str, Any]:
    """A poll on a proposal with amendments starts as a ranked choice between them; alone, yes/no."""
    base = {"secret": "on", "ballot_type": "ranked", "method": "schulze", "seats": "1"}
    chosen = next((p for p in props if p.id == proposal_id), None)
    if chosen is None:
        return base
    amendments = [p for p in props if p.parent_id == chosen.id]
    base.update(proposal_id=str(chosen.id), title=chosen.title)
    if amendments:
        base["candidates"] = "\n".join([chosen.title.replace(",", ";")[:80]]
                                       + [a.title.replace(",", ";")[:80] for a in amendments])
    else:
        base.update(ballot_type="yesno", method="plurality")
    return base


def _poll_page(poll: Poll, status: int = 200, **extra: Any) -> Any:
    user = _user()
    ctx: dict[str, Any] = {"error": None, "field": None, "receipt": None, "changed": False, "mine": None}
    ctx.update(extra)
    voted = bool(user) and ballots.has_voted(db.session, user, poll.id)
    if voted and ctx["mine"] is None:
        ctx["mine"] = ballots.open_ballot_of(db.session, user, poll)
    return render_template(
        "decisions/poll.html", poll=poll, panel=panels.get_panel(db.session, poll.panel_id),
        state=polls.voting_state(poll), voted=voted,
        may_vote=bool(user) and can(db.session, user, "poll.vote", poll.panel_id),
        may_manage=bool(user) and can(db.session, user, "poll.manage", poll.panel_id),
        ballot_count=polls.ballot_count(db.session, poll.id), method=tally_engine.method_info(poll.method),
        proposal=proposals.get_proposal(db.session, poll.proposal_id) if poll.proposal_id else None,
        grade_scale=poll.grade_scale or list(tally_engine.DEFAULT_GRADE_SCALE), **ctx), status


@bp.route("/polls/<int:poll_id>")
@login_required
def poll_detail(poll_id: int) -> Any:
    return _poll_page(polls.view_poll(db.session, current_user, poll_id))


@bp.route("/polls/<int:poll_id>/<any(open, close, publish):action>", methods=["POST"])
@login_required
def poll_action(poll_id: int, action: str) -> Any:
    fn = {"open": polls.open_poll, "close": polls.close_poll, "publish": polls.publish}[action]
    try:
        poll = fn(db.session, current_user, poll_id)
    except ServiceError as e:
        db.session.rollback()
        if e.status in (403, 404):
            raise
        return _poll_page(polls.get_poll(db.session, poll_id), e.status, error=e.message, field=e.field)
    messages = {"open": _("The poll is open. Members can vote until it closes."),
                "close": _("Voting is closed. Check the ballot list, then publish the count."),
                "publish": _("The count is published.")}
    flash(messages[action], "success")
    if action == "publish":
        return redirect(url_for("decisions.results", poll_id=poll.id))
    return redirect(url_for("decisions.poll_detail", poll_id=poll.id))


# --- casting ---------------------------------------------------------------------------------------

def ballot_from_form(poll: Poll, form: Any) -> dict[str, Any]:
    """Turn the voting form into a ballot in the library's JSON shape; unparseable values name their field."""
    names = list(poll.candidates)
    if poll.ballot_type == "yesno":
        return {"choice": form.get("choice", "")}
    if poll.ballot_type == "approval":
        return {"approve": form.getlist("approve")}
    if poll.ballot_type in ("score", "grades"):
        key = "scores" if poll.ballot_type == "score" else "grades"
        out: dict[str, Any] = {}
        for i, name in enumerate(names):
            raw = (form.get(f"c{i}") or "").strip()
            if not raw:
                continue
            if key == "scores":
                try:
                    out[name] = int(raw)
                except ValueError:
                    raise ValidationFailed(_("The score for %(name)s must be a whole number.", name=name),
                                           field=f"ballot.scores.{name}") from None
            else:
                out[name] = raw
        return {key: out}
    tiers: dict[int, list[str]] = {}
    for i, name in enumerate(names):
        raw = (form.get(f"c{i}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationFailed(_("The rank for %(name)s must be 1, 2, 3… or left empty.", name=name),
                                   field="ballot.ranking")
        tiers.setdefault(int(raw), []).append(name)
    return {"ranking": [t[0] if len(t) == 1 else t for _, t in sorted(tiers.items())]}


@bp.route("/polls/<int:poll_id>/vote", methods=["POST"])
@login_required
def vote(poll_id: int) -> Any:
    poll = polls.get_poll(db.session, poll_id)
    as_json = request.is_json
    content: Any = None
    try:
        if as_json:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise ValidationFailed(_("Send a JSON object like {\"ballot\": {…}, \"receipt\": \"…\"}."),
                                       field="body")
            content, receipt = body.get("ballot"), body.get("receipt")
            if receipt is not None and not isinstance(receipt, str):
                raise ValidationFailed(_("The receipt must be text."), field="receipt")
        else:
            content, receipt = ballot_from_form(poll, request.form), request.form.get("receipt") or None
        out = ballots.cast(db.session, current_user, poll_id, content, receipt=receipt)
    except ServiceError as e:
        db.session.rollback()
        if as_json:
            return error_response(e.status, e.message, code=e.code, field=e.field)
        if e.status in (403, 404):
            raise
        return _poll_page(poll, e.status, error=e.message, field=e.field,
                          mine=content if isinstance(content, dict) else None)
    if as_json:
        return jsonify({"poll_id": out.poll_id, "changed": out.changed, "receipt": out.receipt}), (
            200 if out.changed else 201)
    # Rendered, not redirected: the receipt code is shown once and never stored in the session cookie.
    return _poll_page(poll, 200 if out.changed else 201, receipt=out.receipt, changed=out.changed, mine=content)


# --- results and exports ---------------------------------------------------------------------------

def _published(poll_id: int) -> Poll:
    poll = polls.view_poll(db.session, _user(), poll_id)
    if poll.status != "published" or not poll.result:
        raise Conflict(_("The count of this poll is not published yet."), field="status", code="not_published")
    return poll


@bp.route("/polls/<int:poll_id>/results")
def results(poll_id: int) -> Any:
    poll = _published(poll_id)
    return render_template("decisions/results.html", poll=poll, panel=panels.get_panel(db.session, poll.panel_id),
                           charts=results_view.charts(poll.result), r=poll.result, check=None, error=None)


@bp.route("/polls/<int:poll_id>/receipt", methods=["POST"])
def check_receipt(poll_id: int) -> Any:
    poll = polls.view_poll(db.session, _user(), poll_id)
    try:
        digest, content = ballots.check_receipt(db.session, poll, request.form.get("receipt", ""))
        check, error, status = {"hash": digest, "ballot": content}, None, 200
    except ServiceError as e:
        check, error, status = None, e.message, e.status
    if poll.status != "published":
        return _poll_page(poll, status, check=check, error=error, field="receipt" if error else None)
    return render_template("decisions/results.html", poll=poll, panel=panels.get_panel(db.session, poll.panel_id),
                           charts=results_view.charts(poll.result), r=poll.result, check=check,
                           error=error), status


@bp.route("/polls/<int:poll_id>/ballots.jsonl")
def ballots_export(poll_id: int) -> Any:
    poll = polls.view_poll(db.session, _user(), poll_id)
    if poll.status == "closed":
        authorize(db.session, _user(), "poll.manage", poll.panel_id)
    elif poll.status != "published":
        abort(404)
    return Response(polls.export_jsonl(db.session, poll), mimetype="application/x-ndjson",
                    headers={"Content-Disposition": f'attachment; filename="poll-{poll.id}-ballots.jsonl"'})


@bp.route("/polls/<int:poll_id>/results.json")
def results_json(poll_id: int) -> Any:
    return jsonify(_published(poll_id).result)


@bp.route("/polls/<int:poll_id>/results.csv")
def results_csv(poll_id: int) -> Any:
    poll = _published(poll_id)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["poll_id", "feature", "group", "ballots", "candidate", "measure", "value", "low", "high"])
    for row in results_view.csv_rows(poll.result):
        writer.writerow([poll.id, *row])
    return Response(buf.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="poll-{poll.id}-results.csv"'})


def init_app(app: Any) -> None:
    app.register_blueprint(bp)
