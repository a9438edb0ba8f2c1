"""perfrules: CRM facts in, explainable scorecards, rankings and incentives out."""

__version__ = "0.1.0"
