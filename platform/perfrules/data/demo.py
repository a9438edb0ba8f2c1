"""A plausible demo company: departments, roles, managers, logins, and CRM records with a
realistic spread — stars and strugglers, seasonality, follow-ups that lead to deals, deals that
lead to payments and surveys. Deterministic for a seed and an end month."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..audit import record_change
from ..org.models import Department, Employee, EmployeeSpan, Role, User
from .bulk import encode_values, insert_records

REGIONS = [
    ("EAST", "华东销售部", "East China sales"),
    ("SOUTH", "华南销售部", "South China sales"),
    ("NORTH", "华北销售部", "North China sales"),
    ("WEST", "西部销售部", "West China sales"),
    ("CENTRAL", "华中销售部", "Central China sales"),
    ("NORTHEAST", "东北销售部", "Northeast sales"),
]
ROLES = [
    ("sales_director", "销售总监", "Sales director"),
    ("team_lead", "销售主管", "Sales team lead"),
    ("sales_rep", "销售代表", "Sales representative"),
    ("account_manager", "客户经理", "Account manager"),
    ("sales_assistant", "销售助理", "Sales assistant"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲建国志文斌宇浩凯鑫晨欣怡佳琪"
CUSTOMER_PREFIX = ["上海", "北京", "深圳", "杭州", "苏州", "成都", "武汉", "南京", "广州", "西安", "天津", "宁波"]
CUSTOMER_SUFFIX = ["制造有限公司", "科技股份有限公司", "贸易有限公司", "零售连锁", "医药集团", "物流有限公司"]
#: January … December: the Spring Festival slows February; 618 and Double 11 and year-end lift sales
SEASON = [0.85, 0.65, 1.0, 1.0, 1.05, 1.15, 0.95, 0.95, 1.05, 1.0, 1.2, 1.3]
ACTIVITY_TYPES = np.array(["call", "email", "visit", "meeting"])
INDUSTRIES = ["manufacturing", "retail", "finance", "internet", "other"]
OPEN_STAGES = np.array(["lead", "qualified", "proposal", "negotiation"])
#: the log of a typical deal's amount (about 18,000 yuan)
DEAL_SIZE = 9.8
BATCH = 20_000


@dataclass(frozen=True)
class Profile:
    """What one role does in a month, for an average person (skill and effort 1) in an average
    month. The seed configuration's role targets are set from these, somewhat above what a typical
    person does (a rep's sales target is about 1.2 times it), so that grades spread as in a sales
    team: tests/data/test_demo_lifecycle.py checks that they do."""

    #: follow-ups (calls, e-mails, visits, meetings)
    activities: float
    #: opportunities opened
    opportunities: float = 0.0
    #: the share of opportunities won, times the square root of the person's skill
    conversion: float = 0.0
    #: the share of won deals that bring a new customer
    new_customers: float = 0.0
    #: the share of won deals whose customer answers a survey
    surveys: float = 0.0
    #: customer records entered (sales assistants keep the customer master data)
    customers: float = 0.0


PROFILES = {
    "sales_rep": Profile(activities=12, opportunities=10, conversion=0.6, new_customers=0.4, surveys=0.25),
    "team_lead": Profile(activities=6, opportunities=3, conversion=0.6, new_customers=0.4, surveys=0.25),
    # account managers renew and grow the accounts they keep: fewer, likelier deals, rarely a new customer
    "account_manager": Profile(activities=10, opportunities=6, conversion=0.7, new_customers=0.1, surveys=0.6),
    "sales_assistant": Profile(activities=20, customers=6),
}


@dataclass
class DemoSummary:
    employees: int = 0
    users: int = 0
    records: dict[str, int] = field(default_factory=dict)
    #: role → the login of the first employee holding it, to try each view
    example_logins: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        total = sum(self.records.values())
        parts = ", ".join(f"{name} {count:,}" for name, count in sorted(self.records.items()))
        return f"{self.employees:,} employees, {self.users:,} users, {total:,} records ({parts})"


def steady_counts(rng, means):
    """How many things each person did in a month, around their mean: people work steadily, so a
    month varies half as much as chance alone would make it (binomial, variance about mean / 2)."""
    trials = np.ceil(2 * np.asarray(means, dtype=float)).astype(np.int64)
    return rng.binomial(trials, np.divide(means, trials, out=np.zeros(len(trials)), where=trials > 0))


def month_starts(end: dt.date, months: int) -> list[dt.date]:
    starts = []
    year, month = end.year, end.month
    for _ in range(months):
        starts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _days_in(start: dt.date) -> int:
    following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return (following - start).days


def generate_demo(
    session: Session, *, employees: int, months: int, seed: int, end: dt.date, password_hash: str, actor: str
) -> DemoSummary:
    if employees < 10:
        raise ValueError("a demo company needs at least 10 employees")
    rng = np.random.default_rng(seed)
    summary = DemoSummary()
    departments = _departments(session, employees)
    roles = {code: _insert_returning_id(session, Role, code=code, label={"zh": zh, "en": en}) for code, zh, en in ROLES}
    people = _people(session, rng, employees, departments, roles)
    summary.employees = len(people)
    for person in people:
        summary.example_logins.setdefault(person.role, person.code.lower())
    summary.users = _users(session, people, password_hash)
    summary.records = _records(session, rng, people, month_starts(end, months))
    record_change(
        session,
        actor=actor,
        action="data.demo",
        kind="demo",
        key=str(seed),
        after={"employees": employees, "months": months, "end": end.isoformat(), "records": summary.records},
    )
    return summary


def _insert_returning_id(session: Session, model, **values) -> int:
    return session.execute(sa.insert(model).values(**values).returning(model.id)).scalar_one()


def _departments(session: Session, employees: int) -> dict[str, int]:
    ids = {"HQ": _insert_returning_id(session, Department, code="HQ", label={"zh": "总部", "en": "Headquarters"})}
    ids["SALES"] = _insert_returning_id(
        session, Department, code="SALES", parent_id=ids["HQ"], label={"zh": "销售中心", "en": "Sales centre"}
    )
    for code, zh, en in REGIONS[: min(len(REGIONS), max(2, employees // 400))]:
        ids[code] = _insert_returning_id(
            session, Department, code=code, parent_id=ids["SALES"], label={"zh": zh, "en": en}
        )
    for code, zh, en, parent in (
        ("KA", "大客户部", "Key accounts", "SALES"),
        ("CS", "客户成功部", "Customer success", "HQ"),
        ("OPS", "销售运营部", "Sales operations", "HQ"),
    ):
        ids[code] = _insert_returning_id(
            session, Department, code=code, parent_id=ids[parent], label={"zh": zh, "en": en}
        )
    return ids


@dataclass
class Person:
    code: str
    role: str
    department: str
    skill: float
    effort: float
    diligence: float
    id: int = 0
    manager: Person | None = None


def _people(session: Session, rng, count: int, departments: dict[str, int], roles: dict[str, int]) -> list[Person]:
    regions = [code for code, _, _ in REGIONS if code in departments]
    assistants = max(1, count // 30)
    account_managers = max(2, count // 10)
    heads = len(regions)
    field_staff = count - 1 - heads - assistants - account_managers
    leads = max(heads, math.ceil(field_staff / 9))
    reps = field_staff - (leads - heads)
    serial = iter(range(1, count + 1))

    def person(role: str, department: str) -> Person:
        return Person(
            f"E{next(serial):05d}",
            role,
            department,
            float(rng.lognormal(0, 0.25)),
            float(np.clip(rng.normal(1, 0.15), 0.5, 1.5)),
            # keeping the CRM up to date is an assistant's job: they are the most diligent
            float(rng.beta(12, 1.5) if role == "sales_assistant" else rng.beta(6, 2)),
        )

    director = person("sales_director", "SALES")
    region_heads = [person("team_lead", region) for region in regions]
    for head in region_heads:
        head.manager = director
    team_leads = [person("team_lead", regions[i % heads]) for i in range(leads - heads)]
    for lead in team_leads:
        lead.manager = region_heads[regions.index(lead.department)]
    all_leads = region_heads + team_leads
    sellers = []
    for i in range(reps):
        lead = all_leads[i % len(all_leads)]
        rep = person("sales_rep", lead.department)
        rep.manager = lead
        sellers.append(rep)
    ams = [person("account_manager", "KA" if i % 2 else "CS") for i in range(account_managers)]
    ops = [person("sales_assistant", "OPS") for _ in range(assistants)]
    for staff in ams + ops:
        staff.manager = director
    everyone = [director, *region_heads, *team_leads, *sellers, *ams, *ops]

    names = [
        SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)] + GIVEN[(i * 13 + 5) % len(GIVEN)]
        for i in rng.permutation(len(everyone) * 3)[: len(everyone)]
    ]
    hire_start = dt.date(2012, 1, 1)
    hires = rng.integers(0, 365 * 12, len(everyone))
    # by level, so that every manager has an id before their reports are inserted
    for level in ([director], region_heads, team_leads, sellers + ams + ops):
        rows = [
            {
                "code": p.code,
                "name": names[int(p.code[1:]) - 1],
                "department_id": departments[p.department],
                "role_id": roles[p.role],
                "manager_id": p.manager.id if p.manager else None,
                "hire_date": hire_start + dt.timedelta(days=int(hires[int(p.code[1:]) - 1])),
                "active": True,
                "attributes": {"level": f"P{3 + int(p.skill * 2) % 4}"},
            }
            for p in level
        ]
        for start in range(0, len(rows), BATCH):
            session.execute(sa.insert(Employee), rows[start : start + BATCH])
        ids = dict(session.execute(sa.select(Employee.code, Employee.id)).all())
        for p in level:
            p.id = ids[p.code]
        # one span each, from the hire date: the history the organisation import would start
        spans = [
            {
                "employee_id": p.id,
                "starts_on": row["hire_date"],
                "department_id": row["department_id"],
                "manager_id": row["manager_id"],
                "role_id": row["role_id"],
            }
            for p, row in zip(level, rows)
        ]
        for start in range(0, len(spans), BATCH):
            session.execute(sa.insert(EmployeeSpan), spans[start : start + BATCH])
    return everyone


def _users(session: Session, people: list[Person], password_hash: str) -> int:
    managers = {p.manager.code for p in people if p.manager}
    rows: list[dict[str, object]] = [
        {"login": "admin", "password_hash": password_hash, "roles": ["admin"], "employee_id": None},
        {"login": "hr", "password_hash": password_hash, "roles": ["hr"], "employee_id": None},
    ]
    rows += [
        {
            "login": p.code.lower(),
            "password_hash": password_hash,
            "roles": ["employee", "manager"] if p.code in managers else ["employee"],
            "employee_id": p.id,
        }
        for p in people
    ]
    for start in range(0, len(rows), BATCH):
        session.execute(sa.insert(User), rows[start : start + BATCH])
    return len(rows)


def _records(session: Session, rng, people: list[Person], months: list[dt.date]) -> dict[str, int]:
    counts = dict.fromkeys(["activities", "opportunities", "deals", "payments", "refunds", "surveys", "customers"], 0)
    batch: list[tuple] = []
    last_day = months[-1] + dt.timedelta(days=_days_in(months[-1]) - 1)

    def add(dataset: str, external_id: str, owner: Person, day: dt.date, values: dict) -> None:
        counts[dataset] += 1
        batch.append((dataset, external_id, owner.id, day, encode_values(values)))
        if len(batch) >= BATCH:
            insert_records(session, batch)
            batch.clear()

    customers = np.array([p + s for p in CUSTOMER_PREFIX for s in CUSTOMER_SUFFIX])
    active = [p for p in people if p.role in PROFILES]
    activity_base = np.array([PROFILES[p.role].activities * p.effort for p in active])
    sellers = [p for p in active if PROFILES[p.role].opportunities]
    # skill wins more of the opportunities and bigger deals: a star sells about twice a struggler
    conversion = np.clip([PROFILES[p.role].conversion * p.skill**0.5 for p in sellers], 0.05, 0.9)
    won_base = np.array([PROFILES[p.role].opportunities * p.effort for p in sellers]) * conversion
    keepers = [p for p in active if PROFILES[p.role].customers]

    for month in months:
        days = _days_in(month)
        season = SEASON[month.month - 1]
        stamp = f"{month:%Y%m}"
        # activities: every draw for the month at once, then one record per draw
        counts_now = steady_counts(rng, activity_base * season)
        total = int(counts_now.sum())
        offsets = rng.integers(0, days, total)
        hours = rng.integers(8, 20, total)
        kinds = ACTIVITY_TYPES[rng.choice(4, total, p=[0.5, 0.2, 0.2, 0.1])]
        luck = rng.random(total)
        names = customers[rng.integers(0, len(customers), total)]
        position = 0
        for p, n in zip(active, counts_now.tolist()):
            for i in range(n):
                k = position + i
                day = month + dt.timedelta(days=int(offsets[k]))
                kind = str(kinds[k])
                add(
                    "activities",
                    f"act-{p.code}-{stamp}-{i}",
                    p,
                    day,
                    {
                        "owner": p.code,
                        "occurred_at": f"{day.isoformat()}T{int(hours[k]):02d}:00:00",
                        "type": kind,
                        "customer": str(names[k]),
                        "duration_minutes": 45 if kind in ("visit", "meeting") else 15,
                        "logged_same_day": bool(luck[k] < p.diligence),
                    },
                )
            position += n

        # opportunities, and for the won ones: deals, payments, surveys, new customers
        won_now = steady_counts(rng, won_base * season)
        counts_now = won_now + steady_counts(rng, won_base * season * (1 - conversion) / conversion)
        total = int(counts_now.sum())
        offsets = rng.integers(0, days, total)
        draws = rng.random((total, 5))
        amounts = rng.lognormal(DEAL_SIZE, 0.25, total)
        margins = rng.uniform(0.55, 0.8, total)
        cycles = rng.gamma(4, 12, total)
        delays = rng.integers(0, 45, total)
        moods = rng.normal(0, 0.8, total)
        nps_noise = rng.normal(0, 1.2, total)
        # most opportunities not won this month are lost; the others are still open
        lost_stages = np.where(rng.random(total) < 0.65, "lost", OPEN_STAGES[rng.integers(0, 4, total)])
        names = customers[rng.integers(0, len(customers), total)]
        suffixes = rng.integers(1, 500, total)
        industries = rng.integers(0, 5, total)
        position = 0
        for p, wins, n in zip(sellers, won_now.tolist(), counts_now.tolist()):
            for i in range(n):
                k = position + i
                day = month + dt.timedelta(days=int(offsets[k]))
                won = i < wins
                # money fields hold minor units (分), as an import stores them
                amount = round(float(amounts[k]) * p.skill**0.5 * 100)
                customer = f"{names[k]}{int(suffixes[k]):03d}"
                add(
                    "opportunities",
                    f"opp-{p.code}-{stamp}-{i}",
                    p,
                    day,
                    {
                        "owner": p.code,
                        "created_on": day.isoformat(),
                        "customer": customer,
                        "stage": "won" if won else str(lost_stages[k]),
                        "amount": amount,
                        "expected_close": (day + dt.timedelta(days=30)).isoformat(),
                    },
                )
                if not won:
                    continue
                profile = PROFILES[p.role]
                new_customer = bool(draws[k, 1] < profile.new_customers)
                add(
                    "deals",
                    f"deal-{p.code}-{stamp}-{i}",
                    p,
                    day,
                    {
                        "owner": p.code,
                        "closed_on": day.isoformat(),
                        "customer": customer,
                        "amount": amount,
                        "cost": round(amount * float(margins[k])),
                        "status": "refunded" if draws[k, 2] < 0.02 else "won",
                        "cycle_days": int(max(3, cycles[k] / p.skill)),
                        "new_customer": new_customer,
                    },
                )
                paid_on = day + dt.timedelta(days=int(delays[k]))
                if paid_on <= last_day:
                    share = min(1.0, 0.55 + 0.5 * p.diligence * float(draws[k, 3]) + 0.2 * p.diligence)
                    add(
                        "payments",
                        f"pay-{p.code}-{stamp}-{i}",
                        p,
                        paid_on,
                        {
                            "owner": p.code,
                            "received_on": paid_on.isoformat(),
                            "customer": customer,
                            "amount": round(amount * share),
                            "receivable": amount,
                            "on_time": int(delays[k]) <= 30,
                        },
                    )
                    # a refunded deal gives its payment back a few weeks later: commission clawed back
                    refunded_on = paid_on + dt.timedelta(days=5 + int(delays[k]) % 25)
                    if draws[k, 2] < 0.02 and refunded_on <= last_day:
                        add(
                            "refunds",
                            f"ref-{p.code}-{stamp}-{i}",
                            p,
                            refunded_on,
                            {
                                "owner": p.code,
                                "refunded_on": refunded_on.isoformat(),
                                "payment": f"pay-{p.code}-{stamp}-{i}",
                                "amount": round(amount * share),
                            },
                        )
                answered = min(paid_on, last_day)
                if draws[k, 4] < profile.surveys:
                    satisfaction = int(min(5, max(1, round(3.9 + 0.6 * (p.skill - 1) + float(moods[k])))))
                    add(
                        "surveys",
                        f"srv-{p.code}-{stamp}-{i}",
                        p,
                        answered,
                        {
                            "owner": p.code,
                            "answered_on": answered.isoformat(),
                            "customer": customer,
                            "satisfaction": satisfaction,
                            "nps_score": int(min(10, max(0, round(satisfaction * 2 + float(nps_noise[k]))))),
                        },
                    )
                if new_customer:
                    add(
                        "customers",
                        f"cus-{p.code}-{stamp}-{i}",
                        p,
                        day,
                        {
                            "owner": p.code,
                            "created_on": day.isoformat(),
                            "name": customer,
                            "industry": INDUSTRIES[int(industries[k])],
                            "tier": "A" if draws[k, 2] < 0.2 else ("B" if draws[k, 2] < 0.5 else "C"),
                            "info_complete": bool(draws[k, 3] < p.diligence),
                        },
                    )
            position += n

        # customer master data kept by the sales assistants
        entered = steady_counts(rng, np.array([PROFILES[p.role].customers * p.effort for p in keepers]))
        for p, n in zip(keepers, entered.tolist()):
            offsets = rng.integers(0, days, n)
            picks = rng.integers(0, len(customers), n)
            luck = rng.random((n, 3))
            for i in range(n):
                day = month + dt.timedelta(days=int(offsets[i]))
                add(
                    "customers",
                    f"cus-{p.code}-{stamp}-{i}",
                    p,
                    day,
                    {
                        "owner": p.code,
                        "created_on": day.isoformat(),
                        "name": f"{customers[int(picks[i])]}{i + 1:03d}",
                        "industry": INDUSTRIES[int(luck[i, 0] * len(INDUSTRIES))],
                        "tier": "A" if luck[i, 1] < 0.2 else ("B" if luck[i, 1] < 0.5 else "C"),
                        "info_complete": bool(luck[i, 2] < p.diligence),
                    },
                )
    insert_records(session, batch)
    return counts
