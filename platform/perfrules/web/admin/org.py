"""The organisation in the console: departments (as a tree), roles, employees and users.

Flask-Admin lists, searches and shows the rows; every create, edit and delete goes through
`orgchanges`, which makes the importer's checks and writes the audit row. A refusal shows each
problem next to the field it is about, and nothing is saved. One module per kind of record
(departments.py, roles.py, employees.py, users.py), on the base of service_views.py.
"""

from __future__ import annotations

from flask_admin import Admin
from flask_babel import lazy_gettext as _l

from ...org.models import Department, Employee, Role, User
from .departments import DepartmentView
from .employees import EmployeeView
from .roles import RoleView
from .users import UserView

ORG_CATEGORY = _l("Organisation")


def add_org_views(admin: Admin) -> None:
    admin.add_view(
        DepartmentView(
            Department,
            name=_l("Departments"),
            endpoint="org_departments",
            url="/admin/departments",
            category=ORG_CATEGORY,
        )
    )
    admin.add_view(RoleView(Role, name=_l("Roles"), endpoint="org_roles", url="/admin/roles", category=ORG_CATEGORY))
    admin.add_view(
        EmployeeView(
            Employee, name=_l("Employees"), endpoint="org_employees", url="/admin/employees", category=ORG_CATEGORY
        )
    )
    admin.add_view(UserView(User, name=_l("Users"), endpoint="org_users", url="/admin/users", category=ORG_CATEGORY))
