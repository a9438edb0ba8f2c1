"""The target-set designer: a set created from nothing through the grid, a block pasted from Excel
(a Chinese header, labels and names for codes), a bad value shown at its cell with nothing saved,
saving unchanged leaving the exported configuration byte for byte as it was, employees by search,
and only HR and administrators — on the seed configuration and organisation."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
import sqlalchemy as sa

from perfrules.config.models import ConfigEntry
from perfrules.config.store import export_yaml, working_config
from perfrules.web import create_app
from perfrules.web.designer.display import plain_number

from ..helpers import SEED_CONFIG, SEED_ORG, add_users, csrf_token, run_cli, sign_in, starting_state

pytestmark = pytest.mark.database
PASSWORD = "s3cret-pass"
SEED_SET = "role_defaults_2026"


def _seed(folder: Path) -> None:
    assert run_cli("org", "import", SEED_ORG).exit_code == 0
    loaded = run_cli("config", "load", SEED_CONFIG)
    assert loaded.exit_code == 0, loaded.output
    add_users([("admin", "admin", None), ("hr", "hr", None), ("zhang", "employee", "E0003")], PASSWORD)


@pytest.fixture
@starting_state(_seed)
def target_designer_seed(cli_env, tmp_path):
    """The seed organisation and configuration (in the draft), with users admin, hr and zhang
    (employee E0003); the test's folder."""
    return tmp_path


@pytest.fixture
def app(target_designer_seed, cli_env, tmp_path):
    return create_app({"database_url": cli_env, "instance_path": str(tmp_path / "instance"), "TESTING": True})


def signed_in(app, login: str, language: str = "en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert sign_in(client, login, PASSWORD).status_code == 302, f"{login} could not sign in"
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client.get("/").get_data(as_text=True))
    return client


def target_sets(session) -> dict:
    session.rollback()
    return dict(
        session.execute(sa.select(ConfigEntry.slug, ConfigEntry.document).where(ConfigEntry.kind == "targets")).all()
    )


def posted(page: str) -> dict[str, list[str]]:
    """What the browser posts when the editor's form is submitted as the page shows it (the new
    row kept in a <template> left out)."""
    document = lxml.html.fromstring(page)
    for template in document.iter("template"):
        template.drop_tree()
    (form,) = [form for form in document.forms if form.get("id") == "targets-form"]
    values: dict[str, list[str]] = {}
    for name, value in form.form_values():
        values.setdefault(name, []).append(value)
    return values


def row_fields(i: int, **cells) -> dict[str, str]:
    fields = {f"e-{i}-_row": "1"}
    for key, value in cells.items():
        if key == "month_shares":
            fields.update({f"e-{i}-m-{m}": share for m, share in enumerate(value, start=1)})
        else:
            fields[f"e-{i}-{key}"] = value
    return fields


def cell_errors(page: str, row: int, cell: str) -> list[str]:
    """The problems shown in one cell of the grid."""
    document = lxml.html.fromstring(page)
    found = document.xpath(
        f'//tbody[@class="entry"][{row + 1}]//td[contains(@class, "c-{cell}")]//div[contains(@class, "field-error")]'
    )
    return [element.text_content().strip() for element in found]


def test_a_target_set_is_built_from_nothing_in_the_grid(app, session):
    client = signed_in(app, "hr")
    listing = client.get("/designer/targets").get_data(as_text=True)
    assert "2026 role default targets" in listing and "Sales amount" in listing and "/designer/targets/new" in listing
    page = client.get("/designer/targets/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<label class="grid-label" for="e-0-value">Value</label>' in text and 'id="e-0-value"' in text
    assert '<option value="sales_amount">Sales amount</option>' in text

    found = client.get("/designer/targets/find-employees?q=张").json["employees"]
    assert {"code": "E0003", "name": "张伟", "department": "East China sales"} in found
    assert client.get("/designer/targets/find-employees?q=E00").json["employees"][0]["code"] == "E0001"

    form = {"csrf_token": csrf_token(text), "slug": "q4_2026", "label_zh": "四季度目标", "label_en": "Q4 targets"}
    form |= row_fields(
        0, name="sales_amount", period="2026-10", holder_kind="employee", holder="E0003", value="120,000"
    )
    form |= row_fields(
        1, name="sales_amount", period="2026-Q4", holder_kind="department", holder="EAST", value="500000",
        split="equal", split_role="sales_rep", decimals="0",
    )  # fmt: skip
    form |= row_fields(
        2, name="new_customers", period="2027", holder_kind="role", holder="sales_rep", value="40",
        month_shares=["5"] * 10 + ["25", "25"],
    )  # fmt: skip
    saved = client.post("/designer/targets/new", data=form)
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/designer/targets/q4_2026")
    assert target_sets(session)["q4_2026"] == {
        "slug": "q4_2026",
        "label": {"zh": "四季度目标", "en": "Q4 targets"},
        "entries": [
            {"name": "sales_amount", "period": "2026-10", "employee": "E0003", "value": 120000.0},
            {
                "name": "sales_amount",
                "period": "2026-Q4",
                "department": "EAST",
                "role": "sales_rep",
                "value": 500000.0,
                "split": "equal",
                "decimals": 0,
            },
            {
                "name": "new_customers",
                "period": "2027",
                "role": "sales_rep",
                "value": 40.0,
                "month_shares": [5.0] * 10 + [25.0, 25.0],
            },
        ],
    }
    shown = client.get("/designer/targets/q4_2026").get_data(as_text=True)
    assert "Sales amount (sales_amount), 2026-10: 120,000 for 张伟 (E0003)." in shown
    assert (
        "500,000 in total for East China sales (EAST), split equally among its 2 active members in the role "
        "Sales representative (sales_rep)" in shown
    )
    assert "Total 500,000 among 2 members: 250,000 each" in shown
    assert "A month gets the share given for it." in shown
    chinese = signed_in(app, "admin", "zh-CN").get("/designer/targets/q4_2026").get_data(as_text=True)
    assert "销售额 (sales_amount)" in chinese and 'id="e-2-m-12"' in chinese


def test_a_block_pasted_from_excel_becomes_rows(app):
    client = signed_in(app, "admin")
    with_header = (
        "指标\t期间\t员工\t部门\t岗位\t目标值\t分解方式\t1月\n"
        '销售额\t2026年10月\t张伟\t\t\t"1,200"\t\t\n'
        "sales_amount\t2026q4\t\t华东销售部\tsales_rep\t300000\t平均\t\n"
        "新客户数\t2026\t\t\tSales representative\tabc\t\t=SUM(A1:A3)\n"
    )
    answer = client.post("/designer/targets/paste-rows", data={"text": with_header})
    assert answer.status_code == 200 and answer.json["header"] is True
    cells = [row["cells"] for row in answer.json["rows"]]
    assert [(c["name"], c["period"], c["holder_kind"], c["holder"], c["value"]) for c in cells] == [
        ("sales_amount", "2026-10", "employee", "E0003", "1200"),
        ("sales_amount", "2026-Q4", "department", "EAST", "300000"),
        ("new_customers", "2026", "role", "sales_rep", "abc"),
    ]
    assert (cells[1]["split"], cells[1]["split_role"]) == ("equal", "sales_rep")
    assert "spreadsheet formulas are not accepted" in answer.json["rows"][2]["problems"][0]["message"]
    assert answer.json["rows"][1]["description"].startswith(
        "Sales amount (sales_amount), quarter 2026-Q4: 300,000 in total"
    )

    in_grid_order = (
        "sales_amount\t2026-11\tdepartment\tSOUTH\t80000\nnew_customers\t2026-11\t员工\tE0006\t3\t\t\t\t"
        + (";".join(["8"] * 11 + ["12"]))
    )
    answer = client.post("/designer/targets/paste-rows", data={"text": in_grid_order})
    assert answer.json["header"] is False and answer.json["problems"] == []
    first, second = (row["cells"] for row in answer.json["rows"])
    assert (first["holder_kind"], first["holder"], first["value"]) == ("department", "SOUTH", "80000")
    assert (second["holder_kind"], second["holder"]) == ("employee", "E0006")
    assert second["month_shares"] == ["8"] * 11 + ["12"]


def test_a_bad_value_is_shown_at_its_cell_and_nothing_is_saved(app, session):
    client = signed_in(app, "admin")
    before = target_sets(session)
    form = posted(client.get(f"/designer/targets/{SEED_SET}").get_data(as_text=True))
    form["e-3-value"] = ["12O0000"]  # a letter O for a zero
    form |= row_fields(5, name="sales_amount", period="2026-13", holder_kind="employee", holder="E0003", value="1")
    checked = client.post(f"/designer/targets/{SEED_SET}/check-rows", data=form)
    assert {"path": "entries[3].value", "message": "Not a valid number."} in checked.json["problems"]
    assert any(p["path"] == "entries[5].period" for p in checked.json["problems"])
    assert len(checked.json["rows"]) == 6

    refused = client.post(f"/designer/targets/{SEED_SET}", data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert cell_errors(page, 3, "value") == ["Not a valid number."]
    assert cell_errors(page, 5, "period") == ["must be a period like 2026-10, 2026-Q4, 2026-H2 or 2026"]
    assert cell_errors(page, 0, "value") == []
    assert 'value="12O0000"' in page
    assert target_sets(session) == before


def test_saving_unchanged_keeps_the_exported_configuration_byte_identical(app, session):
    client = signed_in(app, "hr")
    config = working_config(session)
    before = export_yaml(config)
    page = client.get(f"/designer/targets/{SEED_SET}").get_data(as_text=True)
    last = len(config["targets"][SEED_SET]["entries"]) - 1
    assert re.search(
        rf'id="e-{last}-value"[^>]* value="{plain_number(config["targets"][SEED_SET]["entries"][last]["value"])}"', page
    )
    saved = client.post(f"/designer/targets/{SEED_SET}", data=posted(page), follow_redirects=True)
    assert saved.status_code == 200 and "Nothing changed." in saved.get_data(as_text=True)
    session.rollback()
    assert export_yaml(working_config(session)) == before


def test_only_hr_and_administrators_edit_targets(app):
    employee = signed_in(app, "zhang")
    for url in ("/designer/targets", "/designer/targets/new", f"/designer/targets/{SEED_SET}"):
        assert employee.get(url).status_code == 403, url
    assert employee.get("/designer/targets/find-employees?q=E").status_code == 403
    assert employee.post("/designer/targets/paste-rows", data={"text": "a\tb"}).status_code == 403
    assert employee.post(f"/designer/targets/{SEED_SET}", data={"label_zh": "x"}).status_code == 403
    anonymous = app.test_client().get("/designer/targets")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
