"""The panel report: one data structure rendered as an HTML page and as a PDF of the same content.

Question, how the panel was selected (lottery transcript, representativeness vs population),
process (sessions, speaking-time equity), results, recommendations with support, and responses.
Aggregates only: groups smaller than 5 people are merged, and no person is named.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import (
    DeliberationSession,
    Lottery,
    Message,
    Panel,
    PanelMember,
    Poll,
    Recommendation,
    Room,
    SpeakingTurn,
    Volunteer,
)
from ..models.base import utcnow
from . import accountability, charts, recommendations
from .lookup import get_or_404

MIN_GROUP = 5
SEATED = ("selected", "invited", "accepted")


@dataclass
class FeatureRow:
    value: str
    population: float | None
    pool: float
    panel: float
    panel_count: int | None  # None when fewer than 5 (suppressed)


@dataclass
class Report:
    panel: Panel
    generated_at: datetime
    pool_size: int
    seated: int
    lottery: Lottery | None
    features: dict[str, list[FeatureRow]] = field(default_factory=dict)
    sessions: int = 0
    rooms: int = 0
    messages: int = 0
    speaking: list[tuple[str, float, float]] = field(default_factory=list)  # group, time share, member share
    polls: list[Poll] = field(default_factory=list)
    recs: list[tuple[Recommendation, Any, dict[str, Any], Counter[str], list[Any]]] = field(default_factory=list)

    def feature_chart(self, name: str) -> Markup:
        rows = self.features[name]
        return charts.bar_chart([(r.value, r.panel) for r in rows], percent=True, maximum=1.0,
                                marks=[r.population for r in rows],
                                title=f"Panel share by {name}; black ticks: population share")

    def speaking_chart(self) -> Markup:
        return charts.bar_chart([(g, t) for g, t, _m in self.speaking], percent=True, maximum=1.0,
                                marks=[m for _g, _t, m in self.speaking], colour="#1d7a46",
                                title="Share of speaking time; black ticks: share of members")

    @staticmethod
    def stance_chart(counts: Counter[str]) -> Markup:
        return charts.stance_bar(dict(counts), title="Mission answers")


def _shares(features: list[dict[str, Any]], name: str) -> Counter[str]:
    return Counter(str(f.get(name)) for f in features if f.get(name) is not None)


def build(session: Session, panel_id: int) -> Report:
    panel = get_or_404(session, Panel, panel_id, field="panel_id", label="panel")
    vols = session.execute(select(Volunteer.features, Volunteer.status).where(Volunteer.panel_id == panel.id)).all()
    pool = [f or {} for f, _s in vols]
    seated = [f or {} for f, s in vols if s in SEATED]
    lottery = session.execute(select(Lottery).where(Lottery.panel_id == panel.id, Lottery.status.in_(
        ("done", "published"))).order_by(Lottery.id.desc()).limit(1)).scalar_one_or_none()
    rep = Report(panel=panel, generated_at=utcnow(), pool_size=len(pool), seated=len(seated), lottery=lottery)
    for feat in panel.features:
        pc, sc = _shares(pool, feat.name), _shares(seated, feat.name)
        rows = []
        for v in feat.values:
            n = sc.get(v.value, 0)
            rows.append(FeatureRow(v.value, v.share, pc.get(v.value, 0) / len(pool) if pool else 0.0,
                                   n / len(seated) if seated else 0.0, n if n >= MIN_GROUP else None))
        rep.features[feat.name] = rows
    rep.sessions = int(session.execute(select(func.count(DeliberationSession.id)).where(
        DeliberationSession.panel_id == panel.id)).scalar_one())
    rep.rooms = int(session.execute(select(func.count(Room.id)).where(Room.panel_id == panel.id)).scalar_one())
    rep.messages = int(session.execute(select(func.count(Message.id)).join(Room, Room.id == Message.room_id).where(
        Room.panel_id == panel.id, Message.hidden_at.is_(None))).scalar_one())
    rep.speaking = _speaking_equity(session, panel)
    rep.polls = list(session.execute(select(Poll).where(Poll.panel_id == panel.id, Poll.status == "published")
                                     .order_by(Poll.id)).scalars())
    for rec in session.execute(select(Recommendation).where(Recommendation.panel_id == panel.id,
                                                            Recommendation.status == "published")
                               .order_by(Recommendation.id)).scalars():
        summary = accountability.recommendation(session, rec.id)
        rep.recs.append((rec, recommendations.current(session, rec), recommendations.public_groups(rec.support),
                         summary.counts, summary.rows))
    return rep


def _speaking_equity(session: Session, panel: Panel) -> list[tuple[str, float, float]]:
    """Share of speaking time vs share of members, by the panel's first feature (small groups merged)."""
    if not panel.features:
        return []
    feature = panel.features[0].name
    members = session.execute(select(PanelMember.user_id, Volunteer.features).join(
        Volunteer, Volunteer.id == PanelMember.volunteer_id).where(PanelMember.panel_id == panel.id)).all()
    group_of = {uid: str((f or {}).get(feature, "unknown")) for uid, f in members}
    turns = session.execute(select(SpeakingTurn.user_id, SpeakingTurn.started_at, SpeakingTurn.ended_at).join(
        Room, Room.id == SpeakingTurn.room_id).where(Room.panel_id == panel.id,
                                                     SpeakingTurn.ended_at.is_not(None))).all()
    if not turns or not group_of:
        return []
    seconds: Counter[str] = Counter()
    for uid, start, end in turns:
        if uid in group_of:
            seconds[group_of[uid]] += max(0.0, (end - start).total_seconds())
    sizes = Counter(group_of.values())
    merged: Counter[str] = Counter()
    merged_sizes: Counter[str] = Counter()
    for g, n in sizes.items():
        key = g if n >= MIN_GROUP else "other (small groups merged)"
        merged[key] += seconds.get(g, 0.0)
        merged_sizes[key] += n
    total_t, total_m = sum(merged.values()) or 1.0, sum(merged_sizes.values())
    return [(g, merged[g] / total_t, merged_sizes[g] / total_m) for g in sorted(merged_sizes)]


# --- PDF ----------------------------------------------------------------------------------------

_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _pdf_text(pdf: Any, unicode_font: bool) -> Any:
    def clean(text: str) -> str:
        if unicode_font:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")
    return clean


def render_pdf(rep: Report) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(f"Pnyx panel report: {rep.panel.title}")
    unicode_font = (_FONT_DIR / "DejaVuSans.ttf").exists()
    if unicode_font:
        pdf.add_font("body", "", str(_FONT_DIR / "DejaVuSans.ttf"))
        pdf.add_font("body", "B", str(_FONT_DIR / "DejaVuSans-Bold.ttf"))
        family = "body"
    else:  # core font: Latin-1 only, other characters become '?'
        family = "Helvetica"
    t = _pdf_text(pdf, unicode_font)
    pdf.add_page()
    w = pdf.epw

    def h1(text: str) -> None:
        pdf.set_font(family, "B", 18)
        pdf.multi_cell(w, 9, t(text), new_x="LMARGIN", new_y="NEXT")

    def h2(text: str) -> None:
        pdf.ln(3)
        pdf.set_font(family, "B", 13)
        pdf.multi_cell(w, 7, t(text), new_x="LMARGIN", new_y="NEXT")

    def para(text: str, size: int = 10) -> None:
        pdf.set_font(family, "", size)
        pdf.multi_cell(w, 5, t(text), new_x="LMARGIN", new_y="NEXT")

    def svg(markup: Markup, width: float = 170) -> None:
        pdf.image(io.BytesIO(str(markup).encode()), w=width)
        pdf.ln(2)

    h1(rep.panel.title)
    para(f"Report generated {rep.generated_at:%Y-%m-%d %H:%M} UTC · panel status: {rep.panel.status}", 9)
    h2("Question")
    para(rep.panel.question)
    if rep.panel.mandate:
        para(rep.panel.mandate)
    h2("How the panel was selected")
    para(f"Volunteer pool: {rep.pool_size}. Seats: {rep.panel.size}. Seated: {rep.seated}.")
    if rep.lottery:
        lo = rep.lottery
        para(f"Lottery #{lo.id}: algorithm {lo.algorithm} {lo.algorithm_version}, seed {lo.seed} "
             f"(announced {lo.seed_announced_at:%Y-%m-%d %H:%M} UTC), input digest {lo.input_digest or '-'}, "
             f"minimum selection probability "
             f"{'-' if lo.min_probability is None else f'{lo.min_probability:.4f}'}.")
    else:
        para("No lottery has been run yet.")
    for name in rep.features:
        pdf.set_font(family, "B", 10)
        pdf.cell(w, 6, t(f"Representativeness by {name} (bars: panel; ticks: population)"),
                 new_x="LMARGIN", new_y="NEXT")
        svg(rep.feature_chart(name))
    h2("Process")
    para(f"Sessions: {rep.sessions}. Rooms: {rep.rooms}. Messages: {rep.messages}.")
    if rep.speaking:
        para("Speaking-time equity (bars: share of speaking time; ticks: share of members):")
        svg(rep.speaking_chart())
    h2("Results")
    if rep.polls:
        for p in rep.polls:
            res = p.result or {}
            ballots = "?" if res.get("ballots") is None else ngettext("%(num)s ballot", "%(num)s ballots", res["ballots"])
            para(f"{p.title}: method {p.method}, {ballots}, winners: "
                 f"{', '.join(map(str, res.get('winners') or [])) or '-'}")
    else:
        para("No published vote results yet.")
    h2("Recommendations and responses")
    if not rep.recs:
        para("No recommendation has been published yet.")
    for i, (rec, cur, _groups, counts, rows) in enumerate(rep.recs, start=1):
        pdf.set_font(family, "B", 11)
        pdf.multi_cell(w, 6, t(f"{i}. {rec.title}"), new_x="LMARGIN", new_y="NEXT")
        para(cur.text)
        if rec.support:
            o = rec.support["overall"]
            para(f"Support in the panel: {o['yes'] * 100:.0f}% in favour, {o['no'] * 100:.0f}% against, "
                 f"{o['abstain'] * 100:.0f}% abstained.", 9)
        if cur.minority_opinions:
            para("Minority opinions: " + cur.minority_opinions, 9)
        if rows:
            para("Mission answers (" + ngettext("%(num)d mission addressed", "%(num)d missions addressed", len(rows)) + "): "
                 + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(counts.items())), 9)
            svg(rep.stance_chart(counts), 150)
            for row in rows:
                if row.stance:  # missions still to answer are counted above, not listed one by one
                    para(f"  {row.mission.name}: {row.stance.replace('_', ' ')}" + (" (late)" if row.latest and
                         row.latest.late else "") + (f" — {row.latest.explanation[:300]}" if row.latest and
                                                     row.latest.explanation else ""), 8)
    return bytes(pdf.output())
