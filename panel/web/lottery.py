"""Pages for the pool, the lottery and invitations: organizer pages, the public transcript, and the
citizen's invitation page. Views parse, call a service, render; services authorize and audit."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user
from werkzeug.datastructures import FileStorage

from ..errors import ServiceError, ValidationFailed
from ..extensions import db
from ..models import Panel
from ..models.lottery import ALGORITHMS
from ..services import invitations, jobs, lottery_engine
from ..services import lottery as lottery_service
from ..services import pool as pool_service
from ..services.panels import get_panel
from ..services.permissions import authorize

bp = Blueprint("lottery", __name__)


def _read(name: str) -> tuple[bytes | None, str]:
    f: FileStorage | None = request.files.get(name)
    if f is None or not f.filename:
        return None, ""
    return f.read(), f.filename


def _pool_page(panel_id: int, *, error: ServiceError | None = None, status: int = 200) -> Any:
    panel, rows, pool_count = pool_service.summary(db.session, current_user, panel_id)
    feasibility = pool_service.feasibility(db.session, panel) if (pool_count and not error) else None
    lot = lottery_service.current_initial(db.session, panel.id)
    return render_template("lottery/pool.html", panel=panel, rows=rows, pool_count=pool_count,
                           feasibility=feasibility, lottery=lot, error=error, form=request.form), status


@bp.route("/panels/<int:panel_id>/pool", methods=["GET"])
@login_required
def pool(panel_id: int) -> Any:
    return _pool_page(panel_id)


@bp.route("/panels/<int:panel_id>/pool", methods=["POST"])
@login_required
def pool_upload(panel_id: int) -> Any:
    authorize(db.session, current_user, "pool.manage", get_panel(db.session, panel_id).id)
    people, people_name = _read("people")
    categories, categories_name = _read("categories")
    shares, shares_name = _read("shares")
    try:
        try:
            tolerance = float(request.form.get("tolerance") or "1")
        except ValueError:
            raise ValidationFailed(_("Tolerance must be a number of seats, like 1 or 2."), field="tolerance") from None
        summary = pool_service.import_pool(
            db.session, current_user, panel_id, people=people or b"", people_name=people_name or "people.csv",
            categories=categories, categories_name=categories_name or "categories.csv", shares=shares,
            shares_name=shares_name or "shares.csv", tolerance=tolerance,
            address_columns=request.form.get("address_columns", ""))
    except ServiceError as e:
        db.session.rollback()
        if e.status == 403:
            raise
        return _pool_page(panel_id, error=e, status=e.status)
    flash(_("Imported %(volunteers)s and the quotas for %(features)s.",
            volunteers=ngettext("%(num)d volunteer", "%(num)d volunteers", summary.volunteers),
            features=ngettext("%(num)d feature", "%(num)d features", len(summary.features))), "success")
    return redirect(url_for("lottery.pool", panel_id=panel_id))


@bp.route("/panels/<int:panel_id>/pool/relax", methods=["POST"])
@login_required
def relax(panel_id: int) -> Any:
    changes = pool_service.apply_relaxation(db.session, current_user, panel_id)
    flash(_("Quotas relaxed (%(n)d changed). Check the feasibility below.", n=len(changes)), "success")
    return redirect(url_for("lottery.pool", panel_id=panel_id))


@bp.route("/panels/<int:panel_id>/lottery", methods=["GET"])
@login_required
def lottery_page(panel_id: int) -> Any:
    panel = get_panel(db.session, panel_id)
    authorize(db.session, current_user, "pool.view", panel.id)
    lot = lottery_service.current_initial(db.session, panel.id)
    failed = [x for x in lottery_service.lotteries(db.session, panel.id) if x.status == "failed" and x.kind == "initial"]
    job = lottery_service.job_for(db.session, lot) if lot else None
    groups = lottery_service.group_probabilities(lot) if lot else []
    reps = lottery_service.replacements(db.session, lot) if lot else []
    invites = invitations.panel_invitations(db.session, current_user, panel.id)
    return render_template("lottery/lottery.html", panel=panel, lottery=lot, job=job, groups=groups,
                           replacements=reps, invites=invites, last_failed=failed[-1] if failed else None,
                           algorithms=ALGORITHMS, error=None, form={})


@bp.route("/panels/<int:panel_id>/lottery/seed", methods=["POST"])
@login_required
def announce(panel_id: int) -> Any:
    try:
        lot = lottery_service.announce_seed(db.session, current_user, panel_id, seed=request.form.get("seed", ""),
                                            algorithm=request.form.get("algorithm", "leximin"))
    except ServiceError as e:
        db.session.rollback()
        if e.status == 403:
            raise
        panel = get_panel(db.session, panel_id)
        return render_template("lottery/lottery.html", panel=panel, lottery=None, job=None, groups=[],
                               replacements=[], invites=[], last_failed=None, algorithms=ALGORITHMS,
                               error=e, form=request.form), e.status
    flash(_("Seed announced and inputs frozen. Share the public page, then run the draw."), "success")
    return redirect(url_for("lottery.lottery_page", panel_id=lot.panel_id))


@bp.route("/lotteries/<int:lottery_id>/draw", methods=["POST"])
@login_required
def draw(lottery_id: int) -> Any:
    job = lottery_service.start_draw(db.session, current_user, lottery_id)
    return redirect(url_for("lottery.progress", lottery_id=lottery_id, job=job.id))


@bp.route("/lotteries/<int:lottery_id>/progress")
@login_required
def progress(lottery_id: int) -> Any:
    lot = lottery_service.get_lottery(db.session, lottery_id)
    authorize(db.session, current_user, "lottery.run", lot.panel_id)
    job = lottery_service.job_for(db.session, lot)
    panel = db.session.get(Panel, lot.panel_id)
    return render_template("lottery/progress.html", lottery=lot, job=job, panel=panel)


@bp.route("/jobs/<int:job_id>.json")
@login_required
def job_status(job_id: int) -> Any:
    job = jobs.get_job(db.session, job_id)
    authorize(db.session, current_user, "lottery.run", int(job.payload.get("panel_id", 0)) or None)
    return {"id": job.id, "kind": job.kind, "status": job.status, "progress": round(job.progress, 4),
            "message": job.message, "error": job.error}


@bp.route("/lotteries/<int:lottery_id>/publish", methods=["POST"])
@login_required
def publish(lottery_id: int) -> Any:
    lot = lottery_service.publish(db.session, current_user, lottery_id)
    flash(_("The transcript is public. Anyone can now replay the draw."), "success")
    return redirect(url_for("lottery.transcript", lottery_id=lot.id))


@bp.route("/panels/<int:panel_id>/invitations", methods=["POST"])
@login_required
def invite(panel_id: int) -> Any:
    try:
        n = invitations.invite_selected(db.session, current_user, panel_id)
    except ServiceError as e:
        db.session.rollback()
        if e.status == 403:
            raise
        flash(e.message, "error")
        return redirect(url_for("lottery.lottery_page", panel_id=panel_id)), 303
    flash(ngettext("%(num)d invitation queued for mailing.", "%(num)d invitations queued for mailing.", n), "success")
    return redirect(url_for("lottery.lottery_page", panel_id=panel_id))


# --- public ---------------------------------------------------------------------------------

@bp.route("/lottery/<int:lottery_id>")
def transcript(lottery_id: int) -> Any:
    lot = lottery_service.public_lottery(db.session, lottery_id)
    panel = get_panel(db.session, lot.panel_id)
    shown = lot.status == "published"
    reps = [r for r in lottery_service.replacements(db.session, lot)] if lot.kind == "initial" else []
    data = lottery_service.public_transcript(lot, panel)
    command = lottery_engine.verify_command(f"lottery-{lot.id}-people.csv", f"lottery-{lot.id}-categories.csv",
                                            f"lottery-{lot.id}-transcript.json")
    return render_template("lottery/transcript.html", lottery=lot, panel=panel, shown=shown, verify_command=command,
                           groups=lottery_service.group_probabilities(lot) if shown else [],
                           replacements=reps, data=data,
                           pseudonymised=data.get("people_ids") == lottery_service.PSEUDONYMS)


def _download(body: str, name: str, mimetype: str) -> Response:
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@bp.route("/lottery/<int:lottery_id>/people.csv")
def people_csv(lottery_id: int) -> Any:
    lot = lottery_service.public_lottery(db.session, lottery_id)
    return _download((lot.transcript or {}).get("inputs", {}).get("people_csv", ""),
                     f"lottery-{lot.id}-people.csv", "text/csv")


@bp.route("/lottery/<int:lottery_id>/categories.csv")
def categories_csv(lottery_id: int) -> Any:
    lot = lottery_service.public_lottery(db.session, lottery_id)
    return _download((lot.transcript or {}).get("inputs", {}).get("categories_csv", ""),
                     f"lottery-{lot.id}-categories.csv", "text/csv")


@bp.route("/lottery/<int:lottery_id>/transcript.json")
def transcript_json(lottery_id: int) -> Any:
    lot = lottery_service.public_lottery(db.session, lottery_id)
    panel = get_panel(db.session, lot.panel_id)
    body = json.dumps(lottery_service.public_transcript(lot, panel), indent=1, sort_keys=True, ensure_ascii=False)
    return _download(body, f"lottery-{lot.id}-transcript.json", "application/json")


@bp.route("/invitation/<token>", methods=["GET"])
def invitation(token: str) -> Any:
    try:
        inv, panel, user, open_ = invitations.view(db.session, token)
    except ServiceError as e:
        return render_template("lottery/invitation.html", error=e.message, invitation=None), e.status
    return render_template("lottery/invitation.html", invitation=inv, panel=panel, user=user, open=open_,
                           token=token, timezones=invitations.timezones(), error=None, field=None, form={})


@bp.route("/invitation/<token>", methods=["POST"])
def invitation_answer(token: str) -> Any:
    answer = request.form.get("answer")
    try:
        if answer not in ("accept", "decline"):
            raise ValidationFailed(_("Choose accept or decline."), field="answer")
        inv, user = invitations.respond(db.session, token, accept=answer == "accept",
                                        locale=request.form.get("locale", ""),
                                        timezone=request.form.get("timezone", ""))
    except ServiceError as e:
        db.session.rollback()
        try:
            inv, panel, user, open_ = invitations.view(db.session, token)
        except ServiceError:
            return render_template("lottery/invitation.html", error=e.message, invitation=None), e.status
        return render_template("lottery/invitation.html", invitation=inv, panel=panel, user=user, open=open_,
                               token=token, timezones=invitations.timezones(), error=e.message, field=e.field,
                               form=request.form), e.status
    if inv.status == "accepted":
        login_user(user)
        flash(_("Thank you for accepting. Welcome to the panel!"), "success")
        return redirect(url_for("web.dashboard"))
    flash(_("Thank you for letting us know. Another volunteer will be drawn in your place."), "info")
    return redirect(url_for("lottery.invitation", token=token))
