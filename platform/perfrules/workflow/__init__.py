"""The scorecard lifecycle (审批流): a computed scorecard goes through its template's approval
flow — steps stored as configuration — to approved, then locked."""
