"""The draft-configuration API: documents of every kind created, replaced, checked and removed one
at a time with problems at their paths, publishing a template with what it uses, and who may."""

from __future__ import annotations

import pytest

from .test_api import api, api_users  # noqa: F401  (the API tests' users, tokens and starting state)

pytestmark = pytest.mark.database

DRAFT = "/api/v1/config/draft"
LABEL = {"zh": "拜访", "en": "Visits"}
CHANNEL = {
    "name": "channel",
    "label": {"zh": "渠道", "en": "Channel"},
    "type": "choice",
    "options": [
        {"value": "visit", "label": {"zh": "拜访", "en": "Visit"}},
        {"value": "phone", "label": {"zh": "电话", "en": "Phone"}},
    ],
}
VISITS = {"slug": "visits", "label": LABEL, "dataset": "deals", "aggregate": "count", "filter": "channel == 'visit'"}
VISIT_RATE = {
    "slug": "visit_rate",
    "label": {"zh": "拜访率", "en": "Visit rate"},
    "formula": "visits / (deals_won + deals_lost)",
    "missing": "exclude",
    "scoring": {"type": "linear", "value_from": 0, "value_to": 1, "points_from": 0, "points_to": 100},
}


def template(slug: str, departments: list[str], weights=(70, 30)) -> dict:
    return {
        "slug": slug,
        "label": {"zh": "拜访考核", "en": "Visit plan"},
        "applies_to": {"departments": departments, "roles": ["rep"]},
        "sections": [
            {
                "name": "results",
                "label": {"zh": "业绩", "en": "Results"},
                "weight": weights[0],
                "items": [{"kpi": "attainment", "weight": 100}],
            },
            {
                "name": "visits",
                "label": LABEL,
                "weight": weights[1],
                "items": [{"kpi": "visit_rate", "weight": 100}],
            },
        ],
        "grades": [
            {"grade": "A", "min": 80, "label": {"zh": "优秀", "en": "Excellent"}},
            {"grade": "B", "min": 0, "label": {"zh": "良好", "en": "Good"}},
        ],
    }


def create(api, kind: str, document: dict, login: str = "admin"):
    return api.post(f"{DRAFT}/{kind}", json=document, headers=api.tokens[login])


def build_visits(api, login: str = "admin") -> None:
    """A new field of the deals dataset, a metric counting by it and a KPI over that metric."""
    deals = api.get(f"{DRAFT}/datasets/deals", headers=api.tokens[login]).json
    deals["fields"].append(CHANNEL)
    saved = api.put(f"{DRAFT}/datasets/deals", json=deals, headers=api.tokens[login])
    assert saved.status_code == 200 and saved.json["fields"][-1]["name"] == "channel", saved.json
    made = create(api, "metrics", VISITS, login)
    assert made.status_code == 201 and made.headers["Location"].endswith(f"{DRAFT}/metrics/visits"), made.json
    assert made.json["window"] == "period"  # stored with its defaults
    assert create(api, "kpis", VISIT_RATE, login).status_code == 201


def test_a_template_built_through_the_api_is_published_with_what_it_uses(api):
    build_visits(api)
    unrelated = {**VISITS, "slug": "phone_calls", "filter": "channel == 'phone'"}
    assert create(api, "metrics", unrelated).status_code == 201
    assert create(api, "templates", template("visit_plan", ["EAST"])).status_code == 201

    published = api.post(
        "/api/v1/config/publish",
        json={"message": "visit plan", "templates": ["visit_plan"]},
        headers=api.tokens["hr"],
    )
    assert published.status_code == 201, published.json
    assert published.json["version"] == 2 and published.json["message"] == "visit plan"
    assert published.json["documents"] == [
        {"kind": "templates", "slug": "visit_plan", "change": "new"},
        {"kind": "datasets", "slug": "deals", "change": "changed"},
        {"kind": "metrics", "slug": "visits", "change": "new"},
        {"kind": "kpis", "slug": "visit_rate", "change": "new"},
    ]
    # the deals dataset changed for visit_plan; rep and lead, published, read it too
    assert published.json["also_changes"] == [{"kind": "datasets", "slug": "deals", "templates": ["lead", "rep"]}]
    version = api.get("/api/v1/config?version=2&format=json", headers=api.tokens["hr"]).json
    assert {"visits", "sales"} <= {m["slug"] for m in version["metrics"]}
    assert "phone_calls" not in {m["slug"] for m in version["metrics"]}
    deals = next(d for d in version["datasets"] if d["slug"] == "deals")
    assert {**CHANNEL, "required": False, "unique": False} in deals["fields"]

    rest = api.post("/api/v1/config/publish", json={"message": "the rest"}, headers=api.tokens["admin"])
    assert rest.status_code == 201 and rest.json["version"] == 3, rest.json
    assert rest.json["documents"] == [{"kind": "metrics", "slug": "phone_calls", "change": "new"}]
    nothing = api.post("/api/v1/config/publish", json={"message": "again"}, headers=api.tokens["admin"])
    assert nothing.status_code == 422 and "nothing to publish" in nothing.json["errors"][0]["message"]
    assert api.post("/api/v1/config/publish", json={"templates": []}, headers=api.tokens["admin"]).json["errors"] == [
        {"path": "message", "message": "Missing data for required field."},
        {"path": "templates", "message": "name at least one template, or leave templates out"},
    ]


def test_problems_come_back_at_their_paths_and_nothing_is_saved(api):
    hr = api.tokens["hr"]
    lopsided = create(api, "templates", template("lopsided", ["EAST"], weights=(70, 20)), "hr")
    assert lopsided.status_code == 422
    assert {"path": "sections", "message": "section weights add up to 90, not 100 (or set weights: normalise)"} in (
        lopsided.json["errors"]
    )
    assert api.get(f"{DRAFT}/templates/lopsided", headers=hr).status_code == 404

    unknown_field = create(api, "metrics", {**VISITS, "filter": "channel == 'visit'"}, "hr")
    assert unknown_field.status_code == 422 and [e["path"] for e in unknown_field.json["errors"]] == ["filter"]
    assert "channel" in unknown_field.json["errors"][0]["message"]
    misspelt = create(api, "metrics", {**VISITS, "filter": "status == 'wonn'"}, "hr")
    assert misspelt.status_code == 422 and misspelt.json["errors"][0]["path"] == "filter"
    assert "won" in misspelt.json["errors"][0]["message"]
    taken = create(api, "metrics", {**VISITS, "slug": "sales", "filter": None}, "hr")
    assert taken.status_code == 422 and taken.json["errors"][0]["path"] == "slug"

    checked = api.post(f"{DRAFT}/metrics?dry_run=true", json={**VISITS, "filter": None}, headers=hr)
    assert checked.status_code == 200 and checked.json == {"errors": []}
    assert api.get(f"{DRAFT}/metrics/visits", headers=hr).status_code == 404  # a check saves nothing
    sales = api.get(f"{DRAFT}/metrics/sales", headers=hr).json
    bad = api.put(f"{DRAFT}/metrics/sales?dry_run=1", json={**sales, "aggregate": "median"}, headers=hr)
    assert bad.status_code == 422 and bad.json["errors"][0]["path"] == "aggregate"
    renamed = api.put(f"{DRAFT}/metrics/sales", json={**sales, "slug": "revenue"}, headers=hr)
    assert renamed.status_code == 422 and renamed.json["errors"][0]["path"] == "slug"

    for body in ('[{"slug": "visits"}]', '"visits"', "null"):
        refused = api.post(f"{DRAFT}/metrics", data=body, content_type="application/json", headers=hr)
        assert refused.status_code == 422 and refused.json["message"].startswith("the body must be a JSON object")
    assert api.post(f"{DRAFT}/metrics", data="{", content_type="application/json", headers=hr).status_code == 400
    assert api.post(f"{DRAFT}/metrics", data="slug=x", headers=hr).status_code == 415
    huge = api.post(f"{DRAFT}/metrics", data="[" + "0," * 2**23 + "0]", content_type="application/json", headers=hr)
    assert huge.status_code == 413 and "16 MiB" in huge.json["message"]
    assert api.post(f"{DRAFT}/metrics", data="not even JSON").status_code == 401  # the token first
    assert api.get(f"{DRAFT}/metrics/visits", headers=hr).status_code == 404


def test_unknown_kinds_and_documents_answer_404_and_who_may_is_the_services(api):
    admin = api.tokens["admin"]
    assert api.get(f"{DRAFT}/widgets", headers=admin).status_code == 404
    assert api.post(f"{DRAFT}/widgets", json=["the kind first"], headers=admin).status_code == 404
    for method in (api.get, api.delete):
        assert method(f"{DRAFT}/kpis/nope", headers=admin).status_code == 404
    assert api.put(f"{DRAFT}/kpis/nope", json=VISIT_RATE | {"slug": "nope"}, headers=admin).status_code == 404

    for login in ("rep1", "audit", "lead_east"):
        assert api.get(f"{DRAFT}/kpis", headers=api.tokens[login]).status_code == 403
        assert create(api, "kpis", VISIT_RATE, login).status_code == 403
    refused = api.post("/api/v1/config/publish", json={"message": "mine"}, headers=api.tokens["lead_east"])
    assert refused.status_code == 403 and refused.json["message"] == "only HR and administrators publish"

    # a manager: the templates of their own part of the organisation
    east, west = api.tokens["lead_east"], api.tokens["lead_west"]
    build_visits(api)
    assert create(api, "templates", template("east_visits", ["EAST"]), "lead_east").status_code == 201
    assert [t["slug"] for t in api.get(f"{DRAFT}/templates", headers=east).json] == ["east_visits", "lead", "rep"]
    assert [t["slug"] for t in api.get(f"{DRAFT}/templates", headers=west).json] == ["lead", "rep"]
    assert api.get(f"{DRAFT}/templates/east_visits", headers=west).status_code == 404  # not theirs to know of
    rep = api.get(f"{DRAFT}/templates/rep", headers=east).json  # company-wide: seen, not changed
    assert api.put(f"{DRAFT}/templates/rep", json=rep, headers=east).status_code == 403
    outside = create(api, "templates", template("west_visits", ["WEST"]), "lead_east")
    assert outside.status_code == 422 and outside.json["errors"][0]["path"] == "applies_to.departments"
    assert api.delete(f"{DRAFT}/templates/east_visits", headers=west).status_code == 404
    assert api.delete(f"{DRAFT}/templates/east_visits", headers=east).status_code == 204
    assert api.get(f"{DRAFT}/templates/east_visits", headers=admin).status_code == 404


def test_a_document_other_documents_need_is_not_removed(api):
    hr = api.tokens["hr"]
    refused = api.delete(f"{DRAFT}/kpis/growth", headers=hr)
    assert refused.status_code == 422 and refused.json["message"].endswith("nothing was removed")
    assert any(e["path"].startswith("templates.rep.") and "growth" in e["message"] for e in refused.json["errors"])
    assert api.get(f"{DRAFT}/kpis/growth", headers=hr).status_code == 200
    assert create(api, "metrics", {**VISITS, "filter": None}, "hr").status_code == 201
    assert api.delete(f"{DRAFT}/metrics/visits", headers=hr).status_code == 204
    assert api.get(f"{DRAFT}/metrics/visits", headers=hr).status_code == 404


def test_every_document_read_and_saved_unchanged_leaves_the_export_byte_identical(api):
    admin = api.tokens["admin"]
    before = api.get("/api/v1/config?version=draft", headers=admin).get_data()
    kinds = ("datasets", "metrics", "kpis", "templates", "forms", "flows", "targets", "schedules", "attributes")
    saved = 0
    for kind in kinds:
        listed = api.get(f"{DRAFT}/{kind}", headers=admin)
        assert listed.status_code == 200, (kind, listed.json)
        for document in listed.json:
            url = f"{DRAFT}/{kind}/{document['slug']}"
            assert api.get(url, headers=admin).json == document
            put = api.put(url, json=document, headers=admin)
            assert put.status_code == 200 and put.json == document, (url, put.json)
            saved += 1
    assert saved == 12  # every document of the scenario's configuration
    assert api.get("/api/v1/config?version=draft", headers=admin).get_data() == before


def test_the_draft_api_is_in_the_openapi_document(api):
    spec = api.get("/api/openapi.json", headers=api.tokens["rep1"]).json
    documents = spec["paths"]["/api/v1/config/draft/{kind}/{slug}"]
    assert set(documents) >= {"get", "put", "delete", "parameters"}
    kind = next(p for p in documents["parameters"] if p["name"] == "kind")
    assert kind["schema"]["enum"][:3] == ["datasets", "metrics", "kpis"]
    body = spec["paths"]["/api/v1/config/draft/{kind}"]["post"]["requestBody"]["content"]["application/json"]
    assert {"$ref": "#/components/schemas/Kpi"} in body["schema"]["oneOf"]
    publish = spec["paths"]["/api/v1/config/publish"]["post"]
    assert publish["security"] == [{"token": []}] and "201" in publish["responses"]
