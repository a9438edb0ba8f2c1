"""The demo company's scorecards in every state of their lifecycle, as people would have left them
a few days into a month (`perfrules data demo`, once its months are evaluated):

- the month before last is closed: every review approved through its flow — forms filled in by
  the people whose step it was, HR calibrating the scorecards its condition sends to HR — and most
  of them locked by HR, after HR calibrated two grades; three employees disputed an item: one
  dispute is still open, one was rejected, one was accepted, which reopened that review;
- last month is under way: reviews wait at every step of their flow (self-review, the manager's
  review, HR calibration, the department head's approval), some with a self-assessment saved as a
  draft, some returned to the employee by their manager or sent back a step by the next one, each
  with a comment, a few approved.

Everything goes through the workflow's own services, as the people would through the pages:
each action is checked, recorded, audited and announced. Deterministic for a seed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..engine.models import Scorecard
from ..engine.scorecards import item_definitions
from ..formula import FunctionRegistry
from ..org.models import Employee, User
from .actors import Directory
from .calibration import adjust_grade, template_definition
from .dispute_models import Dispute
from .disputes import raise_dispute, resolve_dispute
from .engine import act
from .forms import forms_for, save_response
from .models import Review
from .steps import flow_of, version_config

#: the most approvals one review takes through a flow (a guard against a flow that never ends)
MOST_STEPS = 20
#: answers to the text fields of forms, by field name (others get ANY_TEXT)
TEXTS = {
    "achievements": ["完成重点客户拜访计划，新签两家客户", "回款按期到账，推进了三个大项目", "协助团队完成月度目标"],
    "improvement": ["商机阶段的跟进记录要更及时", "拜访后当天录入 CRM", "多做老客户的复购"],
    "comment": ["工作认真，沟通顺畅", "客户反馈良好，回款跟进还要加强", "团队协作积极，乐于分享经验"],
}
ANY_TEXT = "按计划推进"
RETURNED = "请补充本月的拜访记录后再提交"
REJECTED = "团队回款数据需要再核对一次"
CALIBRATED = {"up": "跨部门大项目的贡献没有体现在数据里", "down": "与同级相比，本期结果被高估"}
DISPUTE_REASON = "有一笔回款已经到账，但没有计入本月"
DISPUTE_RESOLUTIONS = {"accept": "已核实，数据已更正", "reject": "经核对，该笔回款属于下月"}


@dataclass
class Actors:
    """The users who act, as the flow names them."""

    directory: Directory
    users: dict[int, User]
    hr: User

    @classmethod
    def load(cls, session: Session) -> Actors:
        directory = Directory.load(session)
        users = {user.id: user for user in session.scalars(sa.select(User).where(User.active))}
        hr_ids = sorted(directory.by_role.get("hr", set()))
        if not hr_ids:
            raise ValueError("the demo's lifecycle needs an HR user")
        return cls(directory, users, users[hr_ids[0]])

    def acting(self, actor: str, employee_id: int) -> User | None:
        """The user who acts at a step whose actor is `actor` (the first, when it names several)."""
        found = sorted(self.directory.principals(actor, employee_id))
        return self.users[found[0]] if found else None

    def employee(self, employee_id: int) -> User | None:
        return self.acting("employee", employee_id)


class Lifecycle:
    """Moves one period's reviews as the people of the demo company would."""

    def __init__(self, session: Session, period: str, rng: np.random.Generator, functions: FunctionRegistry):
        self.session, self.period, self.rng, self.functions = session, period, rng, functions
        self.people = Actors.load(session)

    def reviews(self, *states: str) -> list[Review]:
        return list(
            self.session.scalars(
                sa.select(Review)
                .where(Review.period == self.period, Review.state.in_(states))
                .order_by(Review.employee_id)
            )
        )

    # --- one review ---------------------------------------------------------------------------

    def _step_actor(self, review: Review) -> str | None:
        step = next((s for s in flow_of(self.session, review) if s["name"] == review.step), None)
        return None if step is None else step["actor"]

    def _rating(self, review: Review, low: float, high: float, own: bool) -> int:
        """A rating that follows the scorecard's total, as people's impressions do, with some noise
        (a little kinder in one's own self-assessment)."""
        card = self._card(review)
        total = None if card is None else card.total
        # on a 1–5 scale: 3 for a total of 60, 4 for 80, 5 for 100
        step = (high - low) / 4
        value = high - step + step * ((total or 80.0) - 80.0) / 20.0 + self.rng.normal(0.3 if own else 0.0, 0.5) * step
        return int(min(max(round(value), low), high))

    def _answers(self, review: Review, definition: dict, own: bool) -> dict:
        answers: dict = {}
        for spec in definition.get("fields", []):
            kind = spec["type"]
            if kind in ("rating", "number"):
                low, high = spec.get("min", 1), spec.get("max", 5)
                answers[spec["name"]] = self._rating(review, low, high, own)
            elif kind == "choice":
                answers[spec["name"]] = spec["options"][0]["value"]
            else:
                choices = TEXTS.get(spec["name"], [ANY_TEXT])
                answers[spec["name"]] = choices[int(self.rng.integers(len(choices)))]
        return answers

    def fill_forms(self, review: Review, user: User, submit: bool = True) -> None:
        """Fill in the forms `user` fills at the review's current step."""
        for need in forms_for(self.session, review):
            if need.at_its_step and user.id in need.users and not need.submitted:
                own = user.employee_id == review.employee_id
                values = self._answers(review, need.definition, own)
                save_response(self.session, review, user, need.slug, values, submit, self.functions)

    def approve(self, review: Review) -> bool:
        """The current step's actor fills in their forms and approves; False when nobody can."""
        actor = self._step_actor(review)
        user = None if actor is None else self.people.acting(actor, review.employee_id)
        if review.state != "in_review" or user is None:
            return False
        self.fill_forms(review, user)
        act(self.session, review, user, "approve", functions=self.functions)
        return True

    def finish(self, review: Review) -> None:
        """Approve at every step until the review is approved."""
        for _ in range(MOST_STEPS):
            if not self.approve(review):
                return

    def send_back(self, review: Review, action: str, comment: str) -> None:
        """The current step's actor returns the review to its first step, or rejects it to the
        step before."""
        actor = self._step_actor(review)
        user = None if actor in (None, "employee") else self.people.acting(actor, review.employee_id)
        if user is not None and (action == "return" or len(review.path) > 1):
            act(self.session, review, user, action, comment, functions=self.functions)

    # --- the month before last: closed --------------------------------------------------------

    def close(self, locked_share: float = 0.85) -> None:
        for review in self.reviews("in_review"):
            self.finish(review)
        approved = self.reviews("approved")
        self._calibrate(approved)
        for review, chance in zip(approved, self.rng.random(len(approved)).tolist()):
            if chance < locked_share:
                act(self.session, review, self.people.hr, "lock", functions=self.functions)
        self._dispute(self.reviews("approved", "locked"))

    def _card(self, review: Review) -> Scorecard | None:
        return self.session.scalar(
            sa.select(Scorecard).where(Scorecard.period == self.period, Scorecard.employee_id == review.employee_id)
        )

    def _calibrate(self, approved: list[Review]) -> None:
        """HR moves two grades, one up and one down, on a template with a distribution to
        calibrate against."""
        moved: set[int] = set()
        for move, step in (("up", -1), ("down", 1)):
            for review in approved:
                card = self._card(review)
                if card is None or card.grade is None or review.employee_id in moved:
                    continue
                definition = template_definition(self.session, card.template, card.version_number)
                grades = [band["grade"] for band in sorted(definition["grades"], key=lambda band: -band.get("min", 0))]
                target = grades.index(card.grade) + step if card.grade in grades else -1
                if definition.get("calibration") and 0 <= target < len(grades):
                    code = self.session.get_one(Employee, review.employee_id).code
                    adjust_grade(self.session, self.period, code, grades[target], CALIBRATED[move], self.people.hr)
                    moved.add(review.employee_id)
                    break

    def _dispute(self, settled: list[Review]) -> None:
        """Three employees each dispute an item: one dispute stays open, one is rejected, one is
        accepted (with a corrected value for a rating, the records' correction for a KPI)."""
        outcomes = ["open", "reject", "accept"]
        for index in self.rng.permutation(len(settled)).tolist():
            review = settled[index]
            employee, card = self.people.employee(review.employee_id), self._card(review)
            items = [item for item in (card.items if card else []) if item.get("points") is not None]
            if not outcomes or card is None or card.version_number is None:
                return
            if employee is None or not items:
                continue
            outcome, item = outcomes.pop(0), items[0]
            dispute = raise_dispute(self.session, review, employee, item["key"], DISPUTE_REASON)
            if outcome == "open":
                continue
            definition = item_definitions(version_config(self.session, card.version_number), card.template)
            found = definition.get(item["key"])
            manual = found is not None and found["kind"] == "manual"
            correction = {"value": min(100.0, (item["value"] or 70.0) + 10)} if manual else {"data_corrected": True}
            resolve_dispute(
                self.session,
                dispute,
                self.people.hr,
                outcome,
                DISPUTE_RESOLUTIONS[outcome],
                correction if outcome == "accept" else None,
                self.functions,
            )

    def _hr_likeness(self, review: Review) -> float | None:
        """How surely the standard flow's HR step takes the scorecard (total < 60 or grade S)
        whatever the manager's rating still to come does: the lowest totals, then the highest S."""
        card = self._card(review)
        if card is None or card.total is None:
            return None
        if card.total < 60:
            return card.total
        return 1000 - card.total if card.grade == "S" else None

    def _has_own_form(self, review: Review) -> float | None:
        return 0 if any(need.filled_by == "employee" for need in forms_for(self.session, review)) else None

    # --- last month: under way ----------------------------------------------------------------

    def progress(self) -> None:
        """Leave the period's reviews spread over the steps of their flow, in the shares of PLAN
        (every part of it when there are at least as many reviews as it has entries)."""
        waiting = self.reviews("in_review")
        reviews = [waiting[i] for i in self.rng.permutation(len(waiting))]
        # where the plan has the manager approve, the scorecard HR's step wants most surely (its
        # condition: a total under 60, or an S), so that one waits at HR's step; where it has a
        # draft saved, a scorecard with a form its employee fills in
        placed: set[int] = set()
        _place(reviews, "manager_approved", self._hr_likeness, placed)
        _place(reviews, "waiting_draft", self._has_own_form, placed)
        for index, review in enumerate(reviews):
            part = PLAN[index % len(PLAN)]
            if part == "waiting_draft":  # nobody has acted yet; the employee saved a draft of their form
                user = self.people.employee(review.employee_id)
                if user is not None:
                    self.fill_forms(review, user, submit=False)
            elif part in ("employee_approved", "returned", "manager_approved", "rejected"):
                self.approve(review)
                if part == "returned":  # the manager sent it back to the employee
                    self.send_back(review, "return", RETURNED)
                elif part in ("manager_approved", "rejected"):
                    self.approve(review)
                    if part == "rejected":  # the next step sent it back a step
                        self.send_back(review, "reject", REJECTED)
            elif part == "approved":
                self.finish(review)


#: how last month's reviews are left, in turn: most wait for the employee or the manager
PLAN = (
    "manager_approved",
    "waiting",
    "employee_approved",
    "returned",
    "waiting_draft",
    "manager_approved",
    "rejected",
    "employee_approved",
    "waiting",
    "approved",
    "manager_approved",
    "waiting",
)


def _place(reviews: list[Review], part: str, rank: Callable[[Review], float | None], placed: set[int]) -> None:
    """Move the review `rank` puts first (the lowest rank; None: not wanted), of those not
    `placed` already, to the first place the plan gives `part`."""
    slot = PLAN.index(part)
    ranked = [(value, i) for i, review in enumerate(reviews) if i not in placed and (value := rank(review)) is not None]
    if ranked and slot < len(reviews):
        found = min(ranked)[1]
        reviews[found], reviews[slot] = reviews[slot], reviews[found]
        placed.add(slot)


def play_lifecycle(
    session: Session, closed: list[str], under_way: str | None, seed: int, functions: FunctionRegistry
) -> Counter[str]:
    """Close the `closed` periods and leave `under_way` in progress; how many reviews are in each
    state, and how many disputes in each of theirs, as "state" or "step" (for reviews in review)
    and "dispute <state>"."""
    rng = np.random.default_rng(seed)
    for period in closed:
        Lifecycle(session, period, rng, functions).close()
    if under_way is not None:
        Lifecycle(session, under_way, rng, functions).progress()
    session.flush()
    periods = [*closed, *([under_way] if under_way else [])]
    found: Counter[str] = Counter()
    for state, step, count in session.execute(
        sa.select(Review.state, Review.step, sa.func.count())
        .where(Review.period.in_(periods))
        .group_by(Review.state, Review.step)
    ):
        found[step if state == "in_review" and step else state] += count
    for state, count in session.execute(
        sa.select(Dispute.state, sa.func.count()).where(Dispute.period.in_(periods)).group_by(Dispute.state)
    ):
        found[f"dispute {state}"] += count
    return found
