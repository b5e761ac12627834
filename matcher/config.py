"""Settings from the environment, with safe defaults for a laptop (SQLite file in ./instance)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    instance = PROJECT_ROOT / "instance"
    instance.mkdir(exist_ok=True)
    return f"sqlite:///{instance / 'xintu.db'}"


class Config:
    """Read once at start-up; every value can be overridden by an XINTU_* environment variable."""

    SECRET_KEY = os.environ.get("XINTU_SECRET_KEY", "dev-only-change-me")
    # Pepper for hashing ID numbers; rotating it breaks duplicate detection, so keep it stable.
    ID_NUMBER_PEPPER = os.environ.get("XINTU_ID_NUMBER_PEPPER", "dev-only-pepper")
    SQLALCHEMY_DATABASE_URI = os.environ.get("XINTU_DATABASE_URL") or _default_database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    API_TITLE = "Xintu (新途) API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    # Served from the package: the docs page works offline.
    OPENAPI_SWAGGER_UI_URL = "/static/vendor/swagger-ui/"
    API_SPEC_OPTIONS = {
        "info": {
            "description": "Resettlement-base matching for county justice bureaus. "
            "Authenticate with `POST /api/v1/auth/tokens`, then send `Authorization: Bearer <token>`."
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_SUPPORTED_LOCALES = ["zh_CN", "en"]
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).parent / "translations")

    PASSWORD_HASH_METHOD = "scrypt"
    # Trained scoring models and their cards (artefacts are files; the registry is in the database).
    MODELS_DIR = os.environ.get("XINTU_MODELS_DIR") or str(PROJECT_ROOT / "models")
    API_TOKEN_TTL_DAYS = int(os.environ.get("XINTU_API_TOKEN_TTL_DAYS", "30"))
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024  # imports of a whole city's spreadsheet fit
    PAGE_SIZE_MAX = 200
    # Notifications' outbound channel (matcher.notify.channels): email when SMTP_HOST is set, else in-app only;
    # NOTIFY_CHANNEL ("package.module:factory") plugs in another channel, e.g. an SMS gateway.
    SMTP_HOST = os.environ.get("XINTU_SMTP_HOST") or None
    SMTP_PORT = int(os.environ.get("XINTU_SMTP_PORT") or "25")
    SMTP_USER = os.environ.get("XINTU_SMTP_USER") or None
    SMTP_PASSWORD = os.environ.get("XINTU_SMTP_PASSWORD") or None
    SMTP_FROM = os.environ.get("XINTU_SMTP_FROM") or "xintu@localhost"
    SMTP_STARTTLS = os.environ.get("XINTU_SMTP_STARTTLS", "").lower() in ("1", "true", "yes", "on")
    NOTIFY_CHANNEL = os.environ.get("XINTU_NOTIFY_CHANNEL") or None
