"""Retention: archive files whose assistance ended long enough ago and remove their personal data."""
