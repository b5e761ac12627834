"""The export tests use the page tests' logged-in client."""

from tests.exports.test_export_requests import admins  # noqa: F401, E402 - the second administrator, shared
from tests.web.conftest import browser  # noqa: F401 - the fixture, shared
