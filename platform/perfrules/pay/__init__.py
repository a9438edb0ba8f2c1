"""Incentive pay: plans (configuration) turn CRM records and scorecards into money lines, exact to
the cent, each explained in words and linked to what it was computed from."""
