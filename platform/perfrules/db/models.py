"""Every model, imported so that Base.metadata is complete (for migrations and tests)."""

from ..audit.log import AuditEntry
from ..config.models import ConfigEntry, ConfigVersion
from ..config.submissions import TemplateSubmission
from ..data.models import Record
from ..engine.models import EvaluationRun, ManualValue, Scorecard
from ..org.models import ApiToken, Department, Employee, Role, SignInFailures, User
from .base import Base

metadata = Base.metadata

__all__ = ["ApiToken", "AuditEntry", "ConfigEntry", "ConfigVersion", "Department", "Employee", "EvaluationRun",
           "ManualValue", "Record", "Role", "Scorecard", "SignInFailures", "TemplateSubmission", "User",
           "metadata"]
