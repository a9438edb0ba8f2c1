"""The organisation perfrules scores: departments, roles, employees and the users who sign in."""
