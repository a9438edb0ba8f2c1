"""Template submissions: a department manager edits a template in the draft and submits it for
approval; HR or an administrator publishes it (a new version of the whole configuration) or
returns it with a comment.

One row per template holds where it stands:

    draft ──submit──▶ submitted ──publish──▶ published ──(edited again)──▶ draft
                          │  └──(edited again)──▶ draft: what was approved is what is published
                          └──return (comment)──▶ returned ──submit──▶ submitted

Publishing a template publishes that template with the draft documents it depends on (new or
changed KPIs, metrics, datasets, forms, flows: `drafts.release`), and nothing else of the draft —
so nobody's unrelated unsubmitted edit goes live with it. A
submission records the template's content hash; if the template changed after it was submitted,
it must be submitted again.

Every step writes an audit row; the configuration itself changes only through the store
(`apply_documents`) and `versions.publish`, as everywhere else.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..audit import record_change
from ..db.base import Base
from ..problems import ConfigError, Problem
from .versions import content_hash

STATES = ("draft", "submitted", "published", "returned")


class TemplateSubmission(Base):
    __tablename__ = "template_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: draft, submitted, published or returned
    state: Mapped[str] = mapped_column(sa.String(16))
    submitted_by: Mapped[str | None] = mapped_column(sa.String(64))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: the submitter's note, or the reason it was returned
    comment: Mapped[str | None] = mapped_column(sa.Text)
    #: the version it was published in
    version_number: Mapped[int | None]
    #: the content hash of the template as submitted
    document_hash: Mapped[str | None] = mapped_column(sa.String(64))

    def as_dict(self) -> dict:
        stamp = lambda value: value.isoformat() if value else None  # noqa: E731
        return {
            "state": self.state,
            "submitted_by": self.submitted_by,
            "submitted_at": stamp(self.submitted_at),
            "decided_by": self.decided_by,
            "decided_at": stamp(self.decided_at),
            "comment": self.comment,
            "version_number": self.version_number,
        }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def submissions(session: Session) -> dict[str, TemplateSubmission]:
    return {row.slug: row for row in session.scalars(sa.select(TemplateSubmission))}


def submission_of(session: Session, slug: str) -> TemplateSubmission | None:
    return session.scalar(sa.select(TemplateSubmission).where(TemplateSubmission.slug == slug))


def _row(session: Session, slug: str) -> tuple[TemplateSubmission, dict | None]:
    row = submission_of(session, slug)
    if row is None:
        row = TemplateSubmission(slug=slug, state="draft")
        session.add(row)
        return row, None
    return row, row.as_dict()


def submit(session: Session, slug: str, actor: str, template: dict, comment: str | None = None) -> TemplateSubmission:
    """Ask for the draft of template `slug` (`template`) to be published as it is now."""
    row, before = _row(session, slug)
    if row.state == "submitted":
        raise ConfigError([Problem("", f"template '{slug}' is already submitted (by {row.submitted_by})")])
    row.state, row.submitted_by, row.submitted_at = "submitted", actor, _now()
    row.document_hash = content_hash(template)
    row.decided_by = row.decided_at = row.version_number = None
    row.comment = (comment or "").strip() or None
    session.flush()
    record_change(
        session, actor=actor, action="template.submit", kind="templates", key=slug, before=before, after=row.as_dict()
    )
    return row


def return_submission(session: Session, slug: str, actor: str, comment: str) -> TemplateSubmission:
    """Send a submitted template back to its submitter with a comment saying why."""
    row = submission_of(session, slug)
    if row is None or row.state != "submitted":
        raise ConfigError([Problem("", f"template '{slug}' is not waiting for approval")])
    if not comment.strip():
        raise ConfigError([Problem("comment", "say why it goes back, so the submitter knows what to change")])
    before = row.as_dict()
    row.state, row.decided_by, row.decided_at, row.comment = "returned", actor, _now(), comment.strip()
    session.flush()
    record_change(
        session, actor=actor, action="template.return", kind="templates", key=slug, before=before, after=row.as_dict()
    )
    return row


def publish_message(slug: str, label: dict | None, row: TemplateSubmission | None, note: str = "") -> str:
    """`Template sales_rep_east (Sales representative, East) submitted by east_lead`, and the note."""
    name = (label or {}).get("en") or (label or {}).get("zh")
    text = f"Template {slug}" + (f" ({name})" if name else "")
    if row is not None and row.state == "submitted" and row.submitted_by:
        text += f" submitted by {row.submitted_by}"
    note = note.strip()
    return f"{text}: {note}" if note else text


def record_published(session: Session, slug: str, actor: str, number: int, *, only_known: bool = False) -> None:
    """Template `slug` went live in version `number` (`only_known`: if it has a submission row,
    as when the whole draft is published)."""
    row = submission_of(session, slug)
    if row is None:
        if only_known:
            return
        row = TemplateSubmission(slug=slug, state="draft")
        session.add(row)
        session.flush()
        before = None
    else:
        before = row.as_dict()
    row.state, row.decided_by, row.decided_at, row.version_number = "published", actor, _now(), number
    session.flush()
    record_change(
        session, actor=actor, action="template.publish", kind="templates", key=slug, before=before, after=row.as_dict()
    )


def mark_edited(session: Session, slug: str, actor: str) -> None:
    """A published or submitted template edited again is a draft once more: what is approved is
    always what was submitted (a returned one stays returned, with its comment)."""
    row = submission_of(session, slug)
    if row is not None and row.state in ("published", "submitted"):
        before = row.as_dict()
        row.state = "draft"
        session.flush()
        record_change(
            session, actor=actor, action="template.edit", kind="templates", key=slug, before=before, after=row.as_dict()
        )
