"""Follow-up after a placement starts: checks at 30, 90 and 180 days, visits that record the employment state."""
