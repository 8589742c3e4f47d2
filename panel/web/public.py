"""Public accountability pages (no sign-in): dashboard, per-recommendation and per-mission views,
the Atom feed of responses, the panel report (HTML + PDF) and the open-data endpoints."""

from __future__ import annotations

from collections import Counter
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..errors import NotFound
from ..extensions import db
from ..models import Panel, Recommendation
from ..services import accountability, charts, missions, opendata, recommendations, report
from ..services.lookup import get_or_404
from ..services.permissions import can

bp = Blueprint("public", __name__)
open_data = Blueprint("open_data", __name__, url_prefix="/open-data")


def _filters() -> tuple[str | None, str | None, list[str]]:
    region = request.args.get("region") or None
    status = request.args.get("status") or None
    regions = missions.regions(db.session)
    accountability.check_filters(region, status, regions)
    return region, status, regions


@bp.route("/public/")
def dashboard() -> Any:
    region, status, regions = _filters()
    recs = accountability.overview(db.session, region=region, status=status)
    totals: Counter[str] = Counter()
    for r in recs:
        totals.update(r.counts)
    return render_template("public/dashboard.html", recs=recs, totals=totals, region=region, status=status,
                           regions=regions, statuses=accountability.FILTER_STATUSES,
                           total_chart=charts.stance_bar(dict(totals), title="All answers"),
                           bar=lambda c: charts.stance_bar(dict(c), title="Answers"))


@bp.route("/public/recommendations/<int:rec_id>")
def recommendation(rec_id: int) -> Any:
    region, status, regions = _filters()
    summary = accountability.recommendation(db.session, rec_id, region=region, status=status)
    rec = summary.recommendation
    return render_template("public/recommendation.html", s=summary, rec=rec,
                           cur=recommendations.current(db.session, rec),
                           groups=recommendations.public_groups(rec.support), region=region, status=status,
                           regions=regions, statuses=accountability.FILTER_STATUSES,
                           chart=charts.stance_bar(dict(summary.counts), title="Answers"))


@bp.route("/public/missions")
def mission_scorecards() -> Any:
    region, status, regions = _filters()
    cards = accountability.scorecards(db.session, region=region, status=status)
    states = [("answered on time", sum(c.on_time for c in cards), "#1d7a46"),
              ("answered late", sum(c.late for c in cards), "#c98a00"),
              ("overdue", sum(c.overdue for c in cards), "#7a1c15"),
              ("awaiting", sum(c.awaiting for c in cards), "#cfd6df")]
    by_region: dict[str, list[int]] = {}
    for c in cards:
        answered, received = by_region.setdefault(c.mission.region, [0, 0])
        by_region[c.mission.region] = [answered + c.on_time + c.late, received + c.delivered]
    region_chart = charts.bar_chart([(r, a / n if n else 0.0) for r, (a, n) in sorted(by_region.items())],
                                    percent=True, maximum=1.0, title="Share of recommendations answered, by region")
    return render_template("public/missions.html", cards=cards, region=region, status=status, regions=regions,
                           statuses=accountability.FILTER_STATUSES, states=states,
                           state_chart=charts.stacked_bar(states, title="Answers by timeliness"),
                           region_chart=region_chart)


@bp.route("/public/missions/<code>")
def mission(code: str) -> Any:
    card = accountability.scorecard(db.session, code)
    return render_template("public/mission.html", card=card,
                           chart=charts.stance_bar(dict(card.stances) | {"overdue": card.overdue,
                                                                         "awaiting": card.awaiting},
                                                   title="Answers"))


@bp.route("/public/feed.atom")
def feed() -> Any:
    items = accountability.recent_responses(db.session)
    base = request.url_root.rstrip("/")
    updated = items[0][0].created_at.isoformat() if items else "1970-01-01T00:00:00+00:00"
    parts = ['<?xml version="1.0" encoding="utf-8"?>',
             '<feed xmlns="http://www.w3.org/2005/Atom">',
             "<title>Pnyx: mission responses to citizens' panel recommendations</title>",
             f'<link rel="self" href="{xml_escape(base)}/public/feed.atom"/>',
             f'<link href="{xml_escape(base)}/public/"/>',
             f"<id>{xml_escape(base)}/public/feed.atom</id>", f"<updated>{updated}</updated>"]
    for r, _d, m, rec in items:
        url = f"{base}{url_for('public.recommendation', rec_id=rec.id)}#mission-{m.country_code}"
        title = f"{m.name}: {r.stance.replace('_', ' ')} — {rec.title}" + (" (late)" if r.late else "")
        parts.append(
            "<entry>"
            f"<title>{xml_escape(title)}</title>"
            f'<link href="{xml_escape(url)}"/>'
            f"<id>tag:pnyx,2026:response/{r.id}</id>"
            f"<updated>{r.created_at.isoformat()}</updated>"
            f"<author><name>{xml_escape(m.name)}</name></author>"
            f"<summary>{xml_escape(r.explanation or r.stance)}</summary>"
            "</entry>")
    parts.append("</feed>")
    return Response("\n".join(parts), mimetype="application/atom+xml")


def _report_panel(panel_id: int) -> Panel:
    """Public once the panel reports or has published a recommendation; staff of the panel see it earlier."""
    panel = get_or_404(db.session, Panel, panel_id, field="panel_id", label="panel")
    has_published = db.session.execute(select(Recommendation.id).where(
        Recommendation.panel_id == panel.id, Recommendation.status == "published").limit(1)).first()
    if has_published or panel.status in ("reporting", "closed") or can(db.session, current_user, "panel.view",
                                                                        panel.id):
        return panel
    raise NotFound(f"The report of panel {panel_id} is not public yet.", field="panel_id")


@bp.route("/public/panels/<int:panel_id>/report")
def panel_report(panel_id: int) -> Any:
    panel = _report_panel(panel_id)
    return render_template("public/report.html", rep=report.build(db.session, panel.id))


@bp.route("/public/panels/<int:panel_id>/report.pdf")
def panel_report_pdf(panel_id: int) -> Any:
    panel = _report_panel(panel_id)
    pdf = report.render_pdf(report.build(db.session, panel.id))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="pnyx-report-{panel.slug}.pdf"'})


# --- open data ----------------------------------------------------------------------------------

def _base_url() -> str:
    return current_app.config.get("BASE_URL") or request.url_root


@open_data.route("/")
def open_data_page() -> Any:
    return render_template("public/open_data.html", cat=opendata.catalogue(_base_url()))


@open_data.route("/index.json")
def open_data_index() -> Any:
    return opendata.catalogue(_base_url())


@open_data.route("/<name>.<fmt>")
def open_data_file(name: str, fmt: str) -> Any:
    ds = opendata.dataset(name, fmt)
    panel_id = opendata.parse_panel_id(request.args.get("panel_id"))
    if fmt == "csv":
        return Response(opendata.as_csv(db.session, ds, panel_id), mimetype="text/csv",
                        headers={"Content-Disposition": f'inline; filename="{ds.name}.csv"'})
    return Response(opendata.as_json(db.session, ds, panel_id), mimetype="application/json")
