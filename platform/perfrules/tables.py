"""Every model, imported so that Base.metadata is complete (for migrations and tests)."""

from .audit.log import AuditEntry
from .config.models import ConfigEntry, ConfigVersion
from .config.submissions import TemplateSubmission
from .data.models import Record
from .db.base import Base
from .engine.models import EvaluationRun, ManualValue, Scorecard
from .notify.models import Notification, NotificationChannel, NotificationDelivery
from .org.models import ApiToken, Department, DepartmentHead, Employee, Role, SignInFailures, SignInPlace, User
from .pay.models import PayCredit, PayLine, PayRun
from .workflow.calibration_models import GradeAdjustment
from .workflow.dispute_models import Dispute
from .workflow.feedback_models import FeedbackRequest
from .workflow.models import Delegation, FormResponse, Review, ReviewAction
from .workflow.reminder_models import ReviewReminder

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "ConfigEntry",
    "ConfigVersion",
    "Delegation",
    "Department",
    "DepartmentHead",
    "Dispute",
    "Employee",
    "EvaluationRun",
    "FeedbackRequest",
    "FormResponse",
    "GradeAdjustment",
    "ManualValue",
    "Notification",
    "NotificationChannel",
    "NotificationDelivery",
    "PayCredit",
    "PayLine",
    "PayRun",
    "Record",
    "Review",
    "ReviewAction",
    "ReviewReminder",
    "Role",
    "Scorecard",
    "SignInFailures",
    "SignInPlace",
    "TemplateSubmission",
    "User",
    "metadata",
]
