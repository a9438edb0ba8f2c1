"""The evaluation engine: metrics aggregated in the database, targets decomposed, KPI formulas
and scoring rules over every employee at once, weighted templates, grades, ranks and a trace for
every number; runs that make a period's scorecards visible all at once.

It knows nothing of the approval flow, the web or the command line: what builds on its results
subscribes to `events`."""
