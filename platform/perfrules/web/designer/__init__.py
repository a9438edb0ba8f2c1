"""The template designer (考核模板设计): appraisal templates edited inline, with live sums of
weights and grade bands; the KPI editor with the formula editor; cloning a template for a
department; a manager's submission and HR's publication.

Who may do what:

- admin and HR: every template and KPI; clone any template for any scope; publish the draft or
  return a submission with a comment;
- a manager (a user linked to an employee): sees the templates that apply to their department
  (company-wide ones, and those scoped to their department subtree or above it), edits only
  templates whose departments all lie within their subtree, clones any template they see for
  departments of their subtree, and submits their templates for approval. Anything else is 403,
  on every URL.

Every change goes through the configuration store (`apply_documents`: the same validation as
YAML and the audit log) into the draft; publishing is `versions.publish`.

The pages are split by what they edit (templates.py, submissions.py, kpis.py, datasets.py); each
registers its routes on the one blueprint of blueprint.py, and importing them here is what
puts those routes on it.
"""

from __future__ import annotations

from . import datasets, documents, kpis, submissions, targets, templates  # noqa: F401  (see the docstring)
from .blueprint import bp

__all__ = ["bp"]
