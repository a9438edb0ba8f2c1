"""Creating users: hashed passwords, known roles, one user per employee."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from ..audit import record_change
from .models import USER_ROLES, User

MIN_PASSWORD = 8
#: one @, something either side, no spaces: the mail server is the judge of the rest
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    return generate_password_hash(password)


def check_email(email: str | None) -> str | None:
    """An e-mail address as stored (None when blank); ValueError when it is not one."""
    email = (email or "").strip() or None
    if email is not None and not EMAIL.match(email):
        raise ValueError(f"'{email}' is not an e-mail address")
    return email


def create_user(
    session: Session,
    login: str,
    password: str,
    roles: list[str],
    employee_id: int | None,
    actor: str,
    password_hash: str | None = None,
    email: str | None = None,
) -> User:
    """`password_hash` lets a caller that creates many users with one password hash it once."""
    unknown = sorted(set(roles) - set(USER_ROLES))
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}; use {', '.join(USER_ROLES)}")
    if session.scalar(sa.select(User.id).where(User.login == login)) is not None:
        raise ValueError(f"user '{login}' already exists")
    email = check_email(email)
    user = User(
        login=login,
        password_hash=password_hash or hash_password(password),
        roles=sorted(set(roles)),
        employee_id=employee_id,
        email=email,
    )
    session.add(user)
    record_change(
        session,
        actor=actor,
        action="user.create",
        kind="users",
        key=login,
        after={"login": login, "roles": user.roles, "employee_id": employee_id, **({"email": email} if email else {})},
    )
    return user
