"""The demo: a realistic panel with a skewed volunteer pool, quotas from population shares, staff,
missions and a few seated citizens. ``seed`` is idempotent: running it twice changes nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Feature, FeatureValue, Mission, Panel, PanelMember, User, Volunteer
from .services import accounts, audit

DEMO_PASSWORD = "pnyx-demo-password"
DEMO_SLUG = "un-citizens-sdg-monitoring"
POOL_SIZE = 600
PANEL_SIZE = 60

# Adult population shares (UN DESA World Population Prospects, rounded), used to derive quotas.
SHARES: dict[str, dict[str, float]] = {
    "region": {"Africa": 0.179, "Asia": 0.592, "Europe": 0.093, "Latin America and the Caribbean": 0.082,
               "Northern America": 0.047, "Oceania": 0.007},
    "gender": {"female": 0.497, "male": 0.497, "non-binary or other": 0.006},
    "age_band": {"18-29": 0.24, "30-44": 0.30, "45-59": 0.24, "60+": 0.22},
    "education": {"primary or less": 0.35, "secondary": 0.45, "tertiary": 0.20},
    "urban_rural": {"urban": 0.57, "rural": 0.43},
}
# Who volunteers is not who lives: the pool over-represents the educated, urban North.
VOLUNTEER_BIAS: dict[str, dict[str, float]] = {
    "region": {"Africa": 1.2, "Asia": 0.7, "Europe": 2.2, "Latin America and the Caribbean": 1.4,
               "Northern America": 2.5, "Oceania": 3.0},
    "education": {"primary or less": 0.4, "secondary": 1.0, "tertiary": 2.6},
    "urban_rural": {"urban": 1.4, "rural": 0.6},
    "age_band": {"18-29": 1.3, "30-44": 1.2, "45-59": 0.9, "60+": 0.6},
}
COUNTRIES = {
    "Africa": ["NGA", "ETH", "EGY", "COD", "KEN", "ZAF", "GHA", "SEN", "MAR", "TZA"],
    "Asia": ["IND", "CHN", "IDN", "PAK", "BGD", "JPN", "PHL", "VNM", "IRN", "THA"],
    "Europe": ["DEU", "FRA", "GBR", "ITA", "ESP", "POL", "UKR", "SWE", "ROU", "NLD"],
    "Latin America and the Caribbean": ["BRA", "MEX", "COL", "ARG", "PER", "CHL", "GTM", "CUB", "JAM"],
    "Northern America": ["USA", "CAN"],
    "Oceania": ["AUS", "PNG", "NZL", "FJI", "WSM"],
}
GIVEN = {
    "Africa": ["Amina", "Kwame", "Chiamaka", "Tendai", "Fatou", "Yohannes", "Wanjiru", "Moussa", "Zanele"],
    "Asia": ["Priya", "Wei", "Siti", "Hiroshi", "Nguyen", "Farah", "Arjun", "Mei", "Rahim", "Ana"],
    "Europe": ["Anna", "Lukas", "Marta", "Jonas", "Elena", "Piotr", "Sofia", "Olena", "Matteo"],
    "Latin America and the Caribbean": ["Camila", "Mateo", "Valentina", "Diego", "Lucía", "Andrés", "Ximena"],
    "Northern America": ["Emily", "Jamal", "Sarah", "Noah", "Aiyana", "Liam", "Grace"],
    "Oceania": ["Aroha", "Jack", "Leilani", "Tavita", "Mele", "Isla"],
}
FAMILY = ["Okafor", "Mensah", "Haile", "Kamau", "Diallo", "Sharma", "Chen", "Santoso", "Tanaka", "Tran",
          "Rahman", "Müller", "Nowak", "Rossi", "García", "Kovalenko", "Silva", "López", "Pérez", "Smith",
          "Johnson", "Tremblay", "Ngata", "Fa'asavalu", "Wilson", "Ahmed", "Kim", "Ivanova", "Haddad"]
MISSIONS = [("KEN", "Permanent Mission of Kenya", "Africa"),
            ("BRA", "Permanent Mission of Brazil", "Latin America and the Caribbean"),
            ("DEU", "Permanent Mission of Germany", "Europe")]
CITIZENS = ("citizen1@pnyx.example", "citizen2@pnyx.example")  # seated before any lottery, to try the citizen view


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str


STAFF = [
    DemoUser("admin@pnyx.example", "Ada Admin", "admin"),
    DemoUser("organizer@pnyx.example", "Olu Organizer", "organizer"),
    DemoUser("facilitator1@pnyx.example", "Farida Facilitator", "facilitator"),
    DemoUser("facilitator2@pnyx.example", "Felipe Facilitator", "facilitator"),
    DemoUser("observer@pnyx.example", "Oksana Observer", "observer"),
]


def quotas_from_shares(shares: dict[str, float], size: int, tolerance: float = 0.1) -> dict[str, tuple[int, int]]:
    """Largest-remainder seat targets, widened by ±tolerance (at least one seat)."""
    total = sum(shares.values())
    exact = {k: v / total * size for k, v in shares.items()}
    seats = {k: int(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - seats[k], reverse=True)[: size - sum(seats.values())]:
        seats[k] += 1
    out = {}
    for k, t in seats.items():
        slack = max(1, round(t * tolerance))
        out[k] = (max(0, t - slack), min(size, t + slack))
    return out


def _pick(rng: random.Random, dist: dict[str, float], bias: dict[str, float] | None) -> str:
    keys = list(dist)
    weights = [dist[k] * (bias or {}).get(k, 1.0) for k in keys]
    return rng.choices(keys, weights=weights)[0]


def _get_or_create_user(session: Session, email: str, name: str, role: str, *, password: str | None = None,
                        mission_id: int | None = None) -> User:
    user = accounts.get_user_by_email(session, email)
    if user is None:
        user = accounts.create_user(session, email=email, name=name, role=role, password=password,
                                    mission_id=mission_id, commit=False)
    return user


def seed(session: Session) -> Panel:
    rng = random.Random(2026)
    staff = {u.email: _get_or_create_user(session, u.email, u.name, u.role, password=DEMO_PASSWORD)
             for u in STAFF}
    from .services.missions import seed_missions
    seed_missions(session)  # all 193 member states; the three below then get their desk officers
    for code, name, region in MISSIONS:
        mission = session.execute(select(Mission).where(Mission.country_code == code)).scalar_one_or_none()
        if mission is None:
            mission = Mission(country_code=code, name=name, region=region)
            session.add(mission)
            session.flush()
        _get_or_create_user(session, f"mission-{code.lower()}@pnyx.example", f"Desk officer, {name}", "mission",
                            mission_id=mission.id)
    from .demo_followup import seed_followup
    seed_followup(session, staff["organizer@pnyx.example"])  # a closed demo panel with public answers

    panel = session.execute(select(Panel).where(Panel.slug == DEMO_SLUG)).scalar_one_or_none()
    if panel is not None:
        _seed_room(session, panel, staff)  # demo databases made before the room existed get it too
        session.commit()
        return panel

    organizer = staff["organizer@pnyx.example"]
    panel = Panel(slug=DEMO_SLUG, title="UN Citizens' Panel on SDG monitoring",
                  question="How should the UN engage citizens in monitoring the SDGs?",
                  mandate="Deliver up to ten recommendations to the member states' missions on how citizens can "
                          "take part in monitoring progress on the Sustainable Development Goals. Every mission "
                          "is asked to answer each recommendation publicly within 90 days.",
                  size=PANEL_SIZE, languages=["en", "fr", "es", "ar", "zh", "ru"], status="recruiting",
                  created_by_id=organizer.id)
    session.add(panel)
    session.flush()
    for pos, (fname, dist) in enumerate(SHARES.items()):
        feature = Feature(panel_id=panel.id, name=fname, position=pos)
        session.add(feature)
        session.flush()
        quotas = quotas_from_shares(dist, PANEL_SIZE)
        for vpos, (value, share) in enumerate(dist.items()):
            lo, hi = quotas[value]
            session.add(FeatureValue(feature_id=feature.id, value=value, min_count=lo, max_count=hi,
                                     share=share, position=vpos))
    for i in range(POOL_SIZE):
        feats = {f: _pick(rng, dist, VOLUNTEER_BIAS.get(f)) for f, dist in SHARES.items()}
        region = feats["region"]
        name = f"{rng.choice(GIVEN[region])} {rng.choice(FAMILY)}"
        session.add(Volunteer(panel_id=panel.id, external_id=f"V{i + 1:04d}", name=name,
                              email=f"volunteer{i + 1:04d}@example.org", country=rng.choice(COUNTRIES[region]),
                              features=feats, household=f"H{rng.randrange(10**6):06d}", consent=True))
    session.add(PanelMember(panel_id=panel.id, user_id=organizer.id, role="organizer"))
    for email in ("facilitator1@pnyx.example", "facilitator2@pnyx.example"):
        session.add(PanelMember(panel_id=panel.id, user_id=staff[email].id, role="facilitator"))
    session.add(PanelMember(panel_id=panel.id, user_id=staff["observer@pnyx.example"].id, role="observer"))
    # Two seated citizens so the citizen's view can be tried before a lottery is run.
    session.flush()
    for ext, email in zip(("V0001", "V0002"), CITIZENS, strict=True):
        vol = session.execute(select(Volunteer).where(Volunteer.panel_id == panel.id,
                                                      Volunteer.external_id == ext)).scalar_one()
        citizen = _get_or_create_user(session, email, vol.name, "citizen")
        vol.status, vol.user_id = "accepted", citizen.id
        session.add(PanelMember(panel_id=panel.id, user_id=citizen.id, role="citizen", status="accepted",
                                volunteer_id=vol.id))
    audit.record(session, "panel.created", actor_id=organizer.id, panel_id=panel.id, subject_type="panel",
                 subject_id=panel.id, payload={"title": panel.title, "size": PANEL_SIZE, "demo": True})
    from .demo_decisions import seed_decisions
    seed_decisions(session, panel, organizer)  # a proposal, its amendment and an open poll to vote in
    audit.record(session, "pool.imported", actor_id=organizer.id, panel_id=panel.id, subject_type="panel",
                 subject_id=panel.id, payload={"volunteers": POOL_SIZE, "source": "demo generator",
                                               # same shape as services.pool.import_pool records
                                               "features": list(SHARES), "households": True,
                                               "quota_source": "population shares", "tolerance": 0.1})
    session.commit()
    _seed_room(session, panel, staff)
    return panel


def _seed_room(session: Session, panel: Panel, staff: dict[str, User]) -> None:
    from .demo_deliberation import seed_deliberation

    citizens = [accounts.get_user_by_email(session, e) for e in CITIZENS]
    seed_deliberation(session, panel, staff["facilitator1@pnyx.example"], [c for c in citizens if c is not None])


def describe_signins(session: Session, base_url: str) -> str:
    """Sign-in instructions per role; fresh single-use links for link-based users."""
    lines = ["", "Pnyx demo is ready. Sign in as:", ""]
    lines.append(f"  Staff sign-in page: {base_url}/auth/signin   (password for all staff: {DEMO_PASSWORD})")
    for u in STAFF:
        lines.append(f"    {u.role:<12} {u.email}")
    lines.append("")
    lines.append("  Personal links (single use, valid 72 h; run `make links` for new ones):")
    linked = session.execute(
        select(User).where(User.role.in_(("citizen", "mission")), User.email.like("%@pnyx.example"))
        .order_by(User.role, User.email)
    ).scalars().all()
    for user in linked:
        token = accounts.issue_magic_link(session, user)
        lines.append(f"    {user.role:<12} {user.name:<42} {base_url}/auth/link/{token}")
    lines.append("")
    return "\n".join(lines)
