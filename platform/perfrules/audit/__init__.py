"""The append-only audit log: who changed what, when, from what to what."""

from .log import AuditEntry, record_change

__all__ = ["AuditEntry", "record_change"]
