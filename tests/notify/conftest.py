"""The notification tests use the page tests' logged-in client too."""

from tests.web.conftest import browser  # noqa: F401 - the fixture, shared
