"""Who sees whose results, asked of `org.access` directly: the reporting chain below a manager,
the departments they head and those below, never the people above them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from perfrules.org.access import visibility
from perfrules.org.models import Department, DepartmentHead, Employee, User

pytestmark = pytest.mark.database


def test_a_head_sees_their_departments_and_below_but_not_their_own_boss_inside_them(session):
    region = Department(code="REGION", label={"zh": "大区"})
    branch = Department(code="BRANCH", label={"zh": "分部"}, parent=region)
    elsewhere = Department(code="ELSEWHERE", label={"zh": "其他"})
    boss = Employee(code="BOSS", name="老板", department=region)
    head = Employee(code="HEAD", name="负责人", department=region, manager=boss)
    peer = Employee(code="PEER", name="同事", department=region, manager=boss)
    member = Employee(code="MEMBER", name="成员", department=branch)
    remote = Employee(code="REMOTE", name="外地", department=elsewhere, manager=head)
    deep = Employee(code="DEEP", name="下属", department=elsewhere, manager=remote)
    session.add_all([region, branch, elsewhere, boss, head, peer, member, remote, deep])
    session.flush()
    session.add(DepartmentHead(department_id=region.id, employee_id=head.id))
    session.flush()

    def seen(user: User) -> set[str]:
        rule = visibility(user)
        codes = set(
            session.scalars(sa.select(Employee.code).where(rule.condition(Employee.department_id, Employee.id)))
        )
        everyone = session.scalars(sa.select(Employee)).all()
        assert codes == {e.code for e in everyone if rule.allows(session, e.department_id, e.id)}  # one answer
        return codes

    as_manager = User(login="head", password_hash="-", roles=["manager"], employee_id=head.id)
    # the region and its branch as their head, the chain below them across departments; not the boss
    assert seen(as_manager) == {"HEAD", "PEER", "MEMBER", "REMOTE", "DEEP"}
    as_employee = User(login="head", password_hash="-", roles=["employee"], employee_id=head.id)
    assert seen(as_employee) == {"HEAD"}
    assert seen(User(login="hr", password_hash="-", roles=["hr"])) == seen(as_manager) | {"BOSS"}
    assert seen(User(login="lost", password_hash="-", roles=["manager"])) == set()  # linked to nobody
