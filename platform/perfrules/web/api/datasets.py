"""Datasets and their records: list the datasets, bulk-upsert records keyed by external id."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ...config.store import working_config
from ...data.ingest import ImportRefused, import_records
from ..auth import token_required
from ..bodies import LARGEST_BODY, words
from ..db import get_session
from .common import SECURITY, abort, only_for

blp = Blueprint("datasets", __name__, url_prefix="/api/v1/datasets", description="CRM datasets and their records")

MAX_RECORDS = 10_000


class RecordsIn(Schema):
    records = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": f"up to {MAX_RECORDS} records, each with external_id and the dataset's fields, "
            f"in a body of at most {words(LARGEST_BODY)}"
        },
    )
    skip_invalid = fields.Bool(load_default=False)


class ProblemOut(Schema):
    row = fields.Int(metadata={"description": "position in the records list, from 1"})
    column = fields.Str()
    value = fields.Raw()
    reason = fields.Str()


class ReportOut(Schema):
    dataset = fields.Str()
    read = fields.Int()
    inserted = fields.Int()
    updated = fields.Int()
    unchanged = fields.Int()
    rejected = fields.Int()
    written = fields.Bool()
    problems = fields.List(fields.Nested(ProblemOut))


class DatasetOut(Schema):
    slug = fields.Str()
    label = fields.Dict()
    owner_field = fields.Str()
    date_field = fields.Str()
    fields_ = fields.List(fields.Dict(), data_key="fields", attribute="fields")


@blp.route("")
class Datasets(MethodView):
    @blp.doc(security=SECURITY)
    @blp.response(200, DatasetOut(many=True))
    @blp.alt_response(403, description=only_for("admin", "hr", "auditor"))
    @token_required("admin", "hr", "auditor")
    def get(self):
        """The datasets records can be imported into."""
        return list(working_config(get_session()).get("datasets", {}).values())


@blp.route("/<slug>/records")
class Records(MethodView):
    @token_required("admin", "hr", max_body=LARGEST_BODY)
    @blp.alt_response(403, description=only_for("admin", "hr"))
    @blp.doc(security=SECURITY)
    @blp.arguments(RecordsIn)
    @blp.response(200, ReportOut)
    @blp.alt_response(422, description="Some records have problems; nothing was written")
    def post(self, payload, slug):
        """Insert or update records keyed by external_id: all of them, or none unless skip_invalid."""
        session = get_session()
        dataset = working_config(session).get("datasets", {}).get(slug)
        if dataset is None:
            abort(404, message=f"unknown dataset '{slug}'")
        rows = payload["records"]
        if len(rows) > MAX_RECORDS:
            abort(413, message=f"at most {MAX_RECORDS} records per request")
        columns = list(dict.fromkeys(key for row in rows for key in row))
        try:
            report = import_records(
                session,
                dataset,
                columns,
                enumerate(rows, start=1),
                actor=g.user.login,
                source="api",
                skip_invalid=payload["skip_invalid"],
            )
        except ImportRefused as exc:
            abort(422, message=str(exc))
        if not report.written:
            session.rollback()
            abort(
                422,
                message=f"{report.rejected} record(s) have problems; nothing was written",
                errors=[
                    {"path": f"json.records[{p.row - 1}].{p.column}", "message": p.reason, "value": p.value}
                    for p in report.problems
                ],
            )
        session.commit()
        return report
