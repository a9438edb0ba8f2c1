"""Organisation tables."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base, JSONType

USER_ROLES = ("admin", "hr", "manager", "employee", "auditor")


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: {"zh": "华东销售部", "en": "East China Sales"}
    label: Mapped[dict] = mapped_column(JSONType)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    parent: Mapped[Department | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Department]] = relationship(back_populates="parent")
    #: the employee who heads the department (负责人), if one is named: see DepartmentHead
    head: Mapped[Employee | None] = relationship(secondary="department_heads", uselist=False)


class Role(Base):
    """A position (岗位) such as sales representative or team lead."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[dict] = mapped_column(JSONType)


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    role_id: Mapped[int | None] = mapped_column(sa.ForeignKey("roles.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    hire_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: free attributes such as {"level": "P5", "region": "east"}
    attributes: Mapped[dict] = mapped_column(JSONType, default=dict)

    department: Mapped[Department] = relationship()
    role: Mapped[Role | None] = relationship()
    manager: Mapped[Employee | None] = relationship(remote_side=[id])


class EmployeeSpan(Base):
    """A stretch of employment in one department, under one manager, in one role: from
    `starts_on` up to, and not including, `ends_on` (none: still so). A change of department,
    manager or role closes one span and opens the next on its effective date; a departure closes
    the last; a rehire opens a new one. An employee's spans never overlap (`org.history`). The
    engine scores a period with the organisation its spans describe (`engine.people`), while the
    employee row keeps only the latest state."""

    __tablename__ = "employee_spans"
    __table_args__ = (sa.UniqueConstraint("employee_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(sa.Date)
    ends_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id"), index=True)
    role_id: Mapped[int | None] = mapped_column(sa.ForeignKey("roles.id"), index=True)


class DepartmentHead(Base):
    """The employee who heads a department (负责人): they see the results of its members and of
    its sub-departments' members (`org.access`), and act at the `department_head` steps of their
    reviews (`workflow.actors`). A department without one has its head found from the manager
    chain. (A table of its own rather than a column: departments and employees name each other.)"""

    __tablename__ = "department_heads"

    department_id: Mapped[int] = mapped_column(sa.ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True)
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id", ondelete="CASCADE"), index=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    #: a subset of USER_ROLES
    roles: Mapped[list] = mapped_column(JSONType, default=list)
    employee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: the language the user chose for the console (zh_CN or en); none: the browser's
    language: Mapped[str | None] = mapped_column(sa.String(8))
    #: where notifications are e-mailed, when an e-mail channel is configured
    email: Mapped[str | None] = mapped_column(sa.String(254))
    #: part of every session cookie's identity: raised on sign-out (and password change), it ends
    #: every session of the user, including copies of the cookie
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())

    employee: Mapped[Employee | None] = relationship()

    # Flask-Login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_epoch}"

    def has_role(self, *roles: str) -> bool:
        return bool(set(roles) & set(self.roles))


class SignInFailures(Base):
    """Failed sign-ins counted under one key (a login from a place, a place, a login from
    anywhere), so that guessing passwords gets slower and slower, across every web worker.
    Forgotten a day after the last failure (`org.signin`)."""

    __tablename__ = "sign_in_failures"

    #: "login+place:zhang@203.0.113.7", "place:203.0.113.7" or "login:zhang"
    key: Mapped[str] = mapped_column(sa.String(160), primary_key=True)
    count: Mapped[int]
    last_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), index=True)


class SignInPlace(Base):
    """A place (client address; an IPv6 /64 network) a user signed in from recently: failures on
    the login from elsewhere do not slow its owner down here."""

    __tablename__ = "sign_in_places"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    place: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))


class ApiToken(Base):
    """A token a program signs in to the REST API with. Only its SHA-256 digest is stored: the
    token itself is shown once, when it is issued."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: the token's first characters, so people can tell their tokens apart
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship()
