"""Exports of personal data: pseudonymised by default; identified files need an administrator's approval."""
