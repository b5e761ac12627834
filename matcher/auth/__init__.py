"""Accounts, roles, sessions and API tokens, and the scope every query goes through."""
