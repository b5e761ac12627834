"""The candidate tests use the page tests' logged-in client."""

from tests.web.conftest import browser  # noqa: F401 - the fixture, shared
