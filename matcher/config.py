"""Settings from the environment, with safe defaults for a laptop (SQLite file in ./instance)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    instance = PROJECT_ROOT / "instance"
    instance.mkdir(exist_ok=True)
    return f"sqlite:///{instance / 'xintu.db'}"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class Config:
    """Read once at start-up; every value can be overridden by an XINTU_* environment variable."""

    SECRET_KEY = os.environ.get("XINTU_SECRET_KEY", "dev-only-change-me")
    # Pepper for hashing ID numbers; rotating it breaks duplicate detection, so keep it stable.
    ID_NUMBER_PEPPER = os.environ.get("XINTU_ID_NUMBER_PEPPER", "dev-only-pepper")
    SQLALCHEMY_DATABASE_URI = os.environ.get("XINTU_DATABASE_URL") or _default_database_url()
    # hide_parameters: SQL errors (and their log lines) never carry the values, which may be personal data.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    SQLALCHEMY_RECORD_QUERIES = False
    # SQLite only: how long a write waits for another one to finish before "database is locked" (SQLite has one
    # writer at a time; an import writes in short transactions, so the pages wait, then go on).
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("XINTU_SQLITE_BUSY_TIMEOUT_MS") or "30000")

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
            "Authenticate with `POST /api/v1/auth/tokens`, then send `Authorization: Bearer <token>`.\n\n"
            "**Dates and times.** A date (`release_date`, `starts_on` ...) is a calendar date in China "
            "(`YYYY-MM-DD`), and 'today' is China's date (UTC+8). A moment (`created_at`, `expires_at` ...) is "
            "RFC 3339 with its offset, sent in UTC: `2026-12-06T17:12:01.123456Z`. Moments sent to the API may "
            "carry any offset; a moment without one is read as UTC, which is deprecated and accepted for one "
            "more version."
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_SUPPORTED_LOCALES = ["zh_CN", "en"]
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).parent / "translations")

    # werkzeug's scrypt (n=2**15, r=8, p=1): memory-hard; a stored hash names its method, so old ones still verify.
    PASSWORD_HASH_METHOD = "scrypt"

    # Security (README, Security). Session cookies are Secure unless XINTU_INSECURE_COOKIES=1, which
    # `make run` sets for plain http on 127.0.0.1; never set it where the service is reached over a network.
    SESSION_COOKIE_SECURE = not _flag("XINTU_INSECURE_COOKIES")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_IDLE_MINUTES = int(os.environ.get("XINTU_SESSION_IDLE_MINUTES") or "30")
    SESSION_MAX_HOURS = int(os.environ.get("XINTU_SESSION_MAX_HOURS") or "12")
    LOGIN_MAX_FAILURES = int(os.environ.get("XINTU_LOGIN_MAX_FAILURES") or "5")
    LOGIN_LOCKOUT_MINUTES = int(os.environ.get("XINTU_LOGIN_LOCKOUT_MINUTES") or "15")
    # None: on, except in tests (TESTING); a test switches it on by setting True.
    LOGIN_RATE_LIMIT_ENABLED = None if "XINTU_LOGIN_RATE_LIMIT" not in os.environ \
        else _flag("XINTU_LOGIN_RATE_LIMIT")
    LOGIN_RATE_LIMIT_PER_ADDRESS = os.environ.get("XINTU_LOGIN_RATE_LIMIT_PER_ADDRESS") or "30 per minute;300 per hour"
    LOGIN_RATE_LIMIT_PER_USERNAME = os.environ.get("XINTU_LOGIN_RATE_LIMIT_PER_USERNAME") or "10 per minute;60 per hour"
    # The requests after which the process collects its garbage and freezes what is left (matcher: warm-up freezes),
    # once the response is sent; "" never. None: 1, 10 and 100, except in tests (TESTING).
    GC_FREEZE_AFTER_REQUESTS = os.environ.get("XINTU_GC_FREEZE_AFTER_REQUESTS")
    # Flask-Limiter's storage: memory (one process) or e.g. redis://127.0.0.1:6379 shared by several processes.
    RATELIMIT_STORAGE_URI = os.environ.get("XINTU_RATELIMIT_STORAGE_URI") or "memory://"
    HSTS_SECONDS = int(os.environ.get("XINTU_HSTS_SECONDS") or str(365 * 24 * 3600))
    # Behind a reverse proxy that terminates TLS: trust one hop of X-Forwarded-For/-Proto/-Host.
    TRUST_PROXY = _flag("XINTU_TRUST_PROXY")
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
    # Text messages to candidates about their interviews (matcher.notify.sms): Tencent Cloud SMS (SendSms, API 3.0,
    # TC3-HMAC-SHA256) when XINTU_SMS_PROVIDER=tencent and its settings are given; otherwise no message is sent.
    SMS_PROVIDER = os.environ.get("XINTU_SMS_PROVIDER") or None
    SMS_SECRET_ID = os.environ.get("XINTU_SMS_SECRET_ID") or None
    SMS_SECRET_KEY = os.environ.get("XINTU_SMS_SECRET_KEY") or None
    SMS_APP_ID = os.environ.get("XINTU_SMS_APP_ID") or None  # SmsSdkAppId
    SMS_SIGN_NAME = os.environ.get("XINTU_SMS_SIGN_NAME") or None  # the approved signature (签名)
    SMS_TEMPLATE_APPOINTMENT = os.environ.get("XINTU_SMS_TEMPLATE_APPOINTMENT") or None  # approved template ids
    SMS_TEMPLATE_REMINDER = os.environ.get("XINTU_SMS_TEMPLATE_REMINDER") or None
    SMS_REGION = os.environ.get("XINTU_SMS_REGION") or "ap-guangzhou"
    SMS_ENDPOINT = os.environ.get("XINTU_SMS_ENDPOINT") or "https://sms.tencentcloudapi.com/"
    # Audit log (matcher.audit.keys, .anchors): the chain is keyed (HMAC-SHA256) with a secret kept out of the
    # database, XINTU_AUDIT_KEY itself or the file XINTU_AUDIT_KEY_FILE names; with neither, a random key is made
    # once in the instance folder (instance/audit.key, mode 0600). Web, workers and cron must share it.
    AUDIT_KEY = os.environ.get("XINTU_AUDIT_KEY") or None
    AUDIT_KEY_FILE = os.environ.get("XINTU_AUDIT_KEY_FILE") or None
    # Where `flask audit checkpoint` appends signed anchors (None: instance/audit-anchors.jsonl); keep it where the
    # database's administrators cannot write.
    AUDIT_ANCHOR_PATH = os.environ.get("XINTU_AUDIT_ANCHOR_PATH") or None
    # Identified exports (matcher.exports): an administrator's approval may be used (once) for this many days.
    EXPORT_APPROVAL_DAYS = int(os.environ.get("XINTU_EXPORT_APPROVAL_DAYS") or "7")
    # Retention (matcher.retention): a file is archived and its personal data removed this many days after the
    # assistance period ends (assistance_ends_on), when nothing live holds it.
    RETENTION_DAYS = int(os.environ.get("XINTU_RETENTION_DAYS") or "730")
    # Lookups by ID number (imports, intake) that find a file outside the account's scope: each is audited, and an
    # account may make this many a day (China's day); beyond it the import or the new file is refused.
    ID_LOOKUPS_PER_DAY = int(os.environ.get("XINTU_ID_LOOKUPS_PER_DAY") or "100")
    # Long jobs (matcher.jobs): an RQ queue on this Redis when set (run `flask --app matcher jobs worker`), else
    # each job runs in a background thread of the web process that started it.
    REDIS_URL = os.environ.get("XINTU_REDIS_URL") or None
    JOBS_QUEUE = os.environ.get("XINTU_JOBS_QUEUE") or "xintu"
    JOB_TIMEOUT = int(os.environ.get("XINTU_JOB_TIMEOUT") or "3600")  # seconds a queued job may run
    # An import of more data rows than this (counted as the file is read) is not run while its request waits (the
    # web server stops a request after 60 s; 15,000 rows took longer): it goes to the jobs by itself, and the answer
    # (202, or the page) follows the job.
    IMPORT_INLINE_MAX_ROWS = int(os.environ.get("XINTU_IMPORT_INLINE_MAX_ROWS") or "1000")


MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")
