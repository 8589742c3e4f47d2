"""Pages for recommendations (staff, panel members), missions' inbox and answers, outbox and webhooks."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..errors import ServiceError, ValidationFailed
from ..extensions import db
from ..models import Delivery, Mission, Poll, Recommendation, User
from ..models.followup import STANCES
from ..services import missions, notifications, panels, recommendations, responses
from ..services.permissions import authorize, can

bp = Blueprint("followup", __name__)
COMMITMENT_ROWS = 3


def _link_base() -> str:
    return current_app.config.get("BASE_URL") or request.host_url


def _polls_with_result(panel_id: int) -> list[Poll]:
    from sqlalchemy import select

    return list(db.session.execute(select(Poll).where(Poll.panel_id == panel_id, Poll.result.is_not(None))
                                   .order_by(Poll.id)).scalars())


# --- recommendations ----------------------------------------------------------------------------

@bp.route("/panels/<int:panel_id>/recommendations", methods=["GET", "POST"])
@login_required
def panel_recommendations(panel_id: int) -> Any:
    panel = panels.get_panel(db.session, panel_id)
    recs = recommendations.list_for_panel(db.session, current_user, panel.id)
    form = request.form
    error = field = None
    if request.method == "POST":
        try:
            if form.get("proposal_id"):
                if not form["proposal_id"].isdigit():
                    raise ValidationFailed(_("Choose a proposal from the list."), field="proposal_id")
                rec = recommendations.create_from_proposal(db.session, current_user, int(form["proposal_id"]))
            else:
                rec = recommendations.create(
                    db.session, current_user, panel.id, title=form.get("title", ""), text=form.get("text", ""),
                    rationale=form.get("rationale", ""), minority_opinions=form.get("minority_opinions", ""),
                    evidence=form.get("evidence", ""))
        except ServiceError as e:
            db.session.rollback()
            error, field = e.message, e.field
            status = e.status
        else:
            flash(_("Draft recommendation created. Review the wording, then send it for sign-off."), "success")
            return redirect(url_for("followup.recommendation", rec_id=rec.id))
    else:
        status = 200
    can_manage = can(db.session, current_user, "recommendation.manage", panel.id)
    proposals = recommendations.proposals_for_panel(db.session, panel.id) if can_manage else []
    return render_template("followup/panel_recommendations.html", panel=panel, recs=recs, proposals=proposals,
                           can_manage=can_manage, form=form, error=error, field=field), status


def _detail(rec: Recommendation, *, error: str | None = None, field: str | None = None,
            form: Any = None, status: int = 200) -> Any:
    from sqlalchemy import select

    panel = panels.get_panel(db.session, rec.panel_id)
    cur = recommendations.current(db.session, rec)
    deliveries = db.session.execute(
        select(Delivery, Mission).join(Mission, Mission.id == Delivery.mission_id)
        .where(Delivery.recommendation_id == rec.id).order_by(Mission.name)).tuples().all()
    states = {d.id: responses.delivery_state(d, responses.first(db.session, d.id)) for d, _m in deliveries}
    signed = recommendations.sign_offs(db.session, rec)
    return render_template(
        "followup/recommendation.html", rec=rec, panel=panel, cur=cur,
        versions=recommendations.versions(db.session, rec.id), signed=signed,
        signed_by_me=any(u.id == current_user.id for _s, u in signed),
        groups=recommendations.public_groups(rec.support), deliveries=deliveries, states=states,
        regions=missions.regions(db.session), all_missions=missions.list_missions(db.session),
        polls=_polls_with_result(rec.panel_id), form=form or {}, error=error, field=field,
        can_manage=can(db.session, current_user, "recommendation.manage", rec.panel_id),
        can_publish=can(db.session, current_user, "recommendation.publish", rec.panel_id),
        can_sign=can(db.session, current_user, "recommendation.sign", rec.panel_id),
    ), status


@bp.route("/recommendations/<int:rec_id>")
@login_required
def recommendation(rec_id: int) -> Any:
    return _detail(recommendations.view(db.session, current_user, rec_id))


ACTION_PERMISSION = {"revise": "recommendation.manage", "support": "recommendation.manage",
                     "review": "recommendation.manage", "sign": "recommendation.sign",
                     "publish": "recommendation.publish", "deliver": "recommendation.publish"}


def _act(rec_id: int, action: str) -> Any:
    rec = recommendations.get(db.session, rec_id)
    # Check before parsing the form, so outsiders learn nothing from validation messages.
    authorize(db.session, current_user, ACTION_PERMISSION[action], rec.panel_id)
    form = request.form
    try:
        if action == "revise":
            base = form.get("base_version", "")
            recommendations.revise(
                db.session, current_user, rec.id, text=form.get("text", ""), rationale=form.get("rationale", ""),
                minority_opinions=form.get("minority_opinions", ""), evidence=form.get("evidence", ""),
                title=form.get("title") or None, base_version=int(base) if base.isdigit() else None)
            flash(_("Saved as a new version."), "success")
        elif action == "support":
            if form.get("poll_id"):
                if not form["poll_id"].isdigit():
                    raise ValidationFailed(_("Choose a poll from the list."), field="poll_id")
                recommendations.attach_poll(db.session, current_user, rec.id, int(form["poll_id"]))
            else:
                try:
                    data = json.loads(form.get("support_json") or "")
                except json.JSONDecodeError as e:
                    raise ValidationFailed(_("Support figures are not valid JSON (line %(line)s, column %(col)s).",
                                             line=e.lineno, col=e.colno), field="support_json") from None
                recommendations.set_support(db.session, current_user, rec.id, data)
            flash(_("Support figures attached."), "success")
        elif action == "review":
            recommendations.open_review(db.session, current_user, rec.id)
            flash(_("Sent to the panel for sign-off."), "success")
        elif action == "sign":
            recommendations.sign_off(db.session, current_user, rec.id)
            flash(_("Thank you: your sign-off of this version is recorded."), "success")
        elif action == "publish":
            recommendations.publish(db.session, current_user, rec.id)
            flash(_("Published. Next: deliver it to the missions with a due date."), "success")
        elif action == "deliver":
            scope = form.get("scope", "all")
            ids = [int(x) for x in form.getlist("mission_ids") if x.isdigit()] if scope == "chosen" else None
            if scope == "chosen" and not ids:
                raise ValidationFailed(_("Tick at least one mission."), field="mission_ids")
            if scope == "region" and not form.get("region"):
                raise ValidationFailed(_("Choose a region."), field="region")
            created = recommendations.deliver(db.session, current_user, rec.id, due_at=form.get("due_at", ""),
                                              mission_ids=ids, region=form.get("region") if scope == "region"
                                              else None, link_base=_link_base())
            flash(ngettext("Delivered to %(num)s mission.", "Delivered to %(num)s missions.", len(created)), "success")
    except ServiceError as e:
        db.session.rollback()
        if e.status in (403, 404):
            raise
        return _detail(recommendations.get(db.session, rec_id), error=e.message, field=e.field, form=form,
                       status=e.status)
    return redirect(url_for("followup.recommendation", rec_id=rec.id))


@bp.route("/recommendations/<int:rec_id>/<any(revise, support, review, sign, publish, deliver):action>",
          methods=["POST"])
@login_required
def recommendation_action(rec_id: int, action: str) -> Any:
    return _act(rec_id, action)


@bp.route("/recommendations/<int:rec_id>/diff")
@login_required
def recommendation_diff(rec_id: int) -> Any:
    rec = recommendations.view(db.session, current_user, rec_id)
    try:
        a = int(request.args.get("a", max(1, rec.current_version - 1)))
        b = int(request.args.get("b", rec.current_version))
    except ValueError:
        raise ValidationFailed(_("Versions are whole numbers (?a=1&b=2)."), field="a") from None
    return render_template("followup/diff.html", rec=rec, a=a, b=b,
                           diffs=recommendations.diff(db.session, rec.id, a, b),
                           versions=recommendations.versions(db.session, rec.id))


# --- missions' inbox and answers ----------------------------------------------------------------

@bp.route("/inbox")
@login_required
def inbox() -> Any:
    items = responses.my_deliveries(db.session, current_user) if current_user.role == "mission" else []
    mission = db.session.get(Mission, current_user.mission_id) if current_user.mission_id else None
    return render_template("followup/inbox.html", items=items, mission=mission,
                           messages=notifications.inbox(db.session, current_user))


@bp.route("/inbox/<int:message_id>/read", methods=["POST"])
@login_required
def inbox_read(message_id: int) -> Any:
    notifications.mark_read(db.session, current_user, message_id)
    return redirect(url_for("followup.inbox") + f"#m{message_id}")


def _commitments_from_form(form: Any) -> list[dict[str, Any]]:
    return [{"text": form.get(f"c{i}_text", ""), "due_at": form.get(f"c{i}_due", ""),
             "met_at": form.get(f"c{i}_met", "")} for i in range(COMMITMENT_ROWS)]


@bp.route("/deliveries/<int:delivery_id>", methods=["GET", "POST"])
@login_required
def delivery(delivery_id: int) -> Any:
    d = responses.view_delivery(db.session, current_user, delivery_id)
    rec = recommendations.get(db.session, d.recommendation_id)
    error = field = None
    status = 200
    form = request.form
    if request.method == "POST":
        try:
            responses.submit(db.session, current_user, d.id, stance=form.get("stance", ""),
                             explanation=form.get("explanation", ""), commitments=_commitments_from_form(form))
        except ServiceError as e:
            db.session.rollback()
            if e.status == 403:
                raise
            error, field, status = e.message, e.field, e.status
        else:
            flash(_("Your answer is recorded and public. You can revise it; earlier versions stay visible."),
                  "success")
            return redirect(url_for("followup.delivery", delivery_id=d.id))
    hist = responses.history(db.session, d.id)
    if request.method == "GET" and hist:
        latest, cs = hist[0]
        form = {"stance": latest.stance, "explanation": latest.explanation}
        for i, c in enumerate(cs[:COMMITMENT_ROWS]):
            form[f"c{i}_text"] = c.text
            form[f"c{i}_due"] = c.due_at.date().isoformat() if c.due_at else ""
            form[f"c{i}_met"] = c.met_at.date().isoformat() if c.met_at else ""
    state = responses.delivery_state(d, hist[-1][0] if hist else None)
    return render_template("followup/delivery.html", d=d, rec=rec, cur=recommendations.current(db.session, rec),
                           mission=db.session.get(Mission, d.mission_id), history=hist, state=state,
                           stances=STANCES, form=form, error=error, field=field, rows=COMMITMENT_ROWS,
                           groups=recommendations.public_groups(rec.support)), status


# --- staff: missions, outbox, webhooks ----------------------------------------------------------

def _missions_page(*, error: str | None = None, field: str | None = None, invited: int | None = None,
                   link: str | None = None, status: int = 200) -> Any:
    from sqlalchemy import select

    region = request.args.get("region") or None
    officers: dict[int, list[User]] = {}
    for u in db.session.execute(select(User).where(User.role == "mission").order_by(User.name)).scalars():
        officers.setdefault(u.mission_id or 0, []).append(u)
    return render_template("followup/missions.html", missions=missions.list_missions(db.session, region),
                           regions=missions.regions(db.session), region=region, officers=officers,
                           error=error, field=field, invited=invited, link=link, form=request.form), status


@bp.route("/missions", methods=["GET"])
@login_required
def mission_list() -> Any:
    authorize(db.session, current_user, "mission.invite")
    return _missions_page()


@bp.route("/missions/<int:mission_id>/invite", methods=["POST"])
@login_required
def mission_invite(mission_id: int) -> Any:
    form = request.form
    try:
        user, link = missions.invite_officer(db.session, current_user, mission_id, email=form.get("email", ""),
                                             name=form.get("name", ""), link_base=_link_base())
    except ServiceError as e:
        db.session.rollback()
        if e.status in (403, 404):
            raise
        return _missions_page(error=e.message, field=e.field, invited=mission_id, status=e.status)
    flash(_("Invitation queued for %(email)s.", email=user.email), "success")
    return _missions_page(invited=mission_id, link=link)


@bp.route("/outbox")
@login_required
def outbox() -> Any:
    status = request.args.get("status") or None
    messages, counts = notifications.outbox_overview(db.session, current_user, status)
    return render_template("followup/outbox.html", messages=messages, counts=counts, status=status)


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@login_required
def outbox_retry(message_id: int) -> Any:
    notifications.retry_now(db.session, current_user, message_id)
    flash(_("Queued for the next worker run."), "success")
    return redirect(url_for("followup.outbox"))


@bp.route("/webhooks", methods=["GET", "POST"])
@login_required
def webhooks() -> Any:
    error = field = None
    status = 200
    if request.method == "POST":
        try:
            notifications.subscribe(db.session, current_user, request.form.get("url", ""),
                                    request.form.get("secret", ""))
        except ServiceError as e:
            db.session.rollback()
            if e.status == 403:
                raise
            error, field, status = e.message, e.field, e.status
        else:
            flash(_("Subscribed. Deliveries are signed with HMAC-SHA256; see the open-data documentation."),
                  "success")
            return redirect(url_for("followup.webhooks"))
    subs = notifications.list_subscriptions(db.session, current_user)
    return render_template("followup/webhooks.html", subs=subs, error=error, field=field,
                           form=request.form), status


@bp.route("/webhooks/<int:sub_id>/delete", methods=["POST"])
@login_required
def webhook_delete(sub_id: int) -> Any:
    notifications.unsubscribe(db.session, current_user, sub_id)
    flash(_("Subscription removed."), "success")
    return redirect(url_for("followup.webhooks"))
