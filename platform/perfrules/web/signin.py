"""Signing in and out, and choosing the console's language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..audit import record_change
from ..org.signin import sign_in as check_sign_in
from .db import get_session
from .i18n import LANGUAGES

bp = Blueprint("signin", __name__)


class SignInForm(FlaskForm):
    login = StringField("login", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=256)])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: `next` must not send people elsewhere after signing in."""
    # browsers read a backslash as a slash, so "/\\evil.example" would leave the site too
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("pages.home")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        db = get_session()
        result = check_sign_in(db, form.login.data, form.password.data, request.remote_addr)
        if result.user is not None:
            record_change(db, actor=result.user.login, action="user.sign_in", kind="users", key=result.user.login)
            db.commit()
            session.clear()  # a fresh session: nothing from before signing in carries over
            login_user(result.user)
            return redirect(_safe_next(request.args.get("next")))
        db.commit()  # the failure is counted
        if result.retry_after:
            flash(
                _("Too many failed sign-ins. Try again in %(seconds)d seconds.", seconds=result.retry_after), "danger"
            )
            status = 429
        else:
            flash(_("Wrong login or password."), "danger")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    if current_user.is_authenticated:
        db = get_session()
        user = db.merge(current_user._get_current_object())
        user.session_epoch += 1  # every copy of this session's cookie stops working
        record_change(db, actor=user.login, action="user.sign_out", kind="users", key=user.login)
        db.commit()
    logout_user()
    session.clear()
    return redirect(url_for("signin.sign_in"))


@bp.route("/language", methods=["POST"])
def choose_language():
    language = request.form.get("language")
    if language in LANGUAGES:
        session["language"] = language
        if current_user.is_authenticated:
            db = get_session()
            db.merge(current_user._get_current_object()).language = language
            db.commit()
    return redirect(_safe_next(request.form.get("next")))
