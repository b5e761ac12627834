"""Judicial offices (司法所), one per township or street."""
