"""The audit tests use the page tests' logged-in client, and each test its own anchor file."""

import pytest

from tests.web.conftest import browser  # noqa: F401 - the fixture, shared


@pytest.fixture(autouse=True)
def anchor_file(app, tmp_path, monkeypatch):
    """Never the instance folder's anchors: a checkpoint in one test must not be checked in the next."""
    path = tmp_path / "audit-anchors.jsonl"
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_PATH", str(path))
    return path
