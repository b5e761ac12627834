"""The calendar: what concerns an account by day (release days, checks due, interviews, fair days), and its feed."""
