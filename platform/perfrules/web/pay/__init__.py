"""Pay pages (激励): a person's statement month by month with each line opened to the records it
credits (statement.py), the lines of everyone the user may see, filtered, paged and downloaded
(lines.py), running a month's pay, previewed first (runs.py), what if — a month's pay with more
collected, a draft or the pipeline, nothing written (estimate.py) — and special awards asked for
and decided (awards.py) — thin doors onto `pay.runs`, `pay.exports`, `pay.statements`,
`pay.estimates` and `pay.awards`. Who sees whose lines is `org.access.visibility`, as the API.

Each module registers its routes on the one blueprint of blueprint.py, and importing them here
is what puts those routes on it.
"""

from __future__ import annotations

from . import awards, estimate, lines, people, runs, statement  # noqa: F401  (see the docstring)
from .blueprint import bp

__all__ = ["bp"]
