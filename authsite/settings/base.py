"""Settings for authsite, read once from the environment with django-environ.

Every variable is documented with its default in ``.env.example``. A ``.env``
file at the project root is read when present; real environment variables win.
"""

from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

from authsite.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Keys used only when DEBUG is on, so `make run` works with no configuration.
# They never sign anything in production: without DEBUG the variables are required.
_DEV_SECRET_KEY = "django-insecure-development-only-secret-key-authsite"
_DEV_JWT_SIGNING_KEY = "development-only-jwt-signing-key-authsite"


def _required(name: str, dev_default: str) -> str:
    value = env.str(name, default="").strip()
    if value.startswith("#") and " " in value:
        # `.env` files take no comment after a value: `KEY=   # text` sets KEY
        # to the text, so the wording of .env.example would become a public key.
        raise ImproperlyConfigured(
            f"{name} holds a comment, not a secret. In .env, put comments on their "
            f"own line and give {name} a random value."
        )
    if value:
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"The {name} environment variable is required when DEBUG is false. "
        f"Set {name} in the environment or in .env (see .env.example)."
    )


SECRET_KEY = _required("SECRET_KEY", _DEV_SECRET_KEY)
JWT_SIGNING_KEY = _required("JWT_SIGNING_KEY", _DEV_JWT_SIGNING_KEY)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_NAME = env.str("SITE_NAME", default="authsite")
# The domain named in the WebOTP line of SMS texts ("@<domain> #<code>").
SITE_DOMAIN = env.str("SITE_DOMAIN", default="localhost")
# Where links in messages point (the "this wasn't me" link of a new-device notice).
SITE_URL = env.str(
    "SITE_URL", default="http://127.0.0.1:8000" if DEBUG else f"https://{SITE_DOMAIN}"
).rstrip("/")
# A notice to the account for a sign-in from a device not seen before (SPEC §18.4).
NOTIFY_NEW_DEVICE = env.bool("NOTIFY_NEW_DEVICE", default=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before whitenoise's and staticfiles' own: its runserver wraps theirs and
    # closes each request's database connection (authsite/management/commands).
    "authsite",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by us, not a CDN
    "django_ratelimit",
    "accounts",
    "otp",
    "profiles",
]

# Every request goes through the middleware outside the block; page requests
# also through the pages-only block. API requests (/api/) and the probes
# (/healthz, /readyz, /metrics) skip the block (authsite.middleware.PagesOnlyMiddleware):
# they use no session, CSRF cookie, messages, user or device cookie; their
# language is set by authsite.i18n — DRF authenticates API requests itself from
# their bearer token. README, "Benchmark".
MIDDLEWARE = [
    "authsite.middleware.RequestIdMiddleware",  # first: every line and answer has the id
    "django.middleware.security.SecurityMiddleware",
    # django-cors-headers', before anything that answers (CORS_URLS_REGEX).
    "authsite.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before every middleware that may answer (the 400 page of a Host outside
    # ALLOWED_HOSTS, the sign-in and second-factor redirects, APPEND_SLASH),
    # so that every answer carries it, not only the views'.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "authsite.middleware.ApiErrorMiddleware",
    "authsite.middleware.NoStoreMiddleware",
    "authsite.middleware.CommonMiddleware",  # Django's: Host validation, Content-Length
    # --- pages only ---------------------------------------------------------------
    "authsite.middleware.PagesOnlyMiddleware",
    "authsite.middleware.DeviceCookieMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "authsite.i18n.AccountLanguageMiddleware",  # the account's language over the browser's
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.WebSessionMiddleware",
    "accounts.middleware.MfaPolicyMiddleware",
    "authsite.middleware.PagesOnlyEndMiddleware",
]

ROOT_URLCONF = "authsite.urls"
WSGI_APPLICATION = "authsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "authsite.context_processors.site",
                "accounts.browser.passkey_offer",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
_db = DATABASES["default"]
_db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
_db["CONN_HEALTH_CHECKS"] = True
# MySQL/MariaDB: a connection that answered within this many seconds is not
# pinged again before the next request's first query (authsite.backends.mysql).
DB_PING_AFTER_IDLE = env.float("DB_PING_AFTER_IDLE", default=1.0)
if _db["ENGINE"] == "django.db.backends.mysql":
    # Django's backend, pinging only a connection idle for DB_PING_AFTER_IDLE
    # seconds (authsite/backends/mysql/base.py).
    _db["ENGINE"] = "authsite.backends.mysql"
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("charset", "utf8mb4")
    _db["OPTIONS"].setdefault("init_command", "SET sql_mode='STRICT_TRANS_TABLES'")
    _db["OPTIONS"].setdefault("isolation_level", "read committed")
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so concurrent writers
    # wait (up to `timeout`) instead of failing with "database is locked".
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("timeout", 20)
    _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    # Write-ahead log: readers never wait for a writer, and a commit appends to
    # the log instead of writing, syncing and deleting a rollback journal.
    _db["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate-limit counters, sign-in failure counters) -----------------------
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://authsite")}
RATELIMIT_USE_CACHE = "default"

# django-ratelimit refuses caches that are not shared between processes (E003,
# W001). LocMem is fine for `make run` and the in-process test suite; with
# DEBUG off our own check (authsite.checks) insists on Redis or memcached.
if CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache")):
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.IdentifierBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

PASSWORD_HASHERS = [
    "authsite.hashers.Argon2idPasswordHasher",  # Argon2id, costs from ARGON2_* below
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]


def _int_between(name: str, default: int, low: int, high: int, unit: str = "") -> int:
    """An integer setting within [low, high], or a start-up error naming it."""
    raw = env.str(name, default=str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ImproperlyConfigured(
            f"{name} must be a whole number between {low} and {high}{unit} (got {raw!r})."
        )
    return value


# Argon2id costs (authsite/hashers.py; SPEC §18.6). Defaults: Django's time and
# memory costs, one lane. The memory floor is that of OWASP's leanest profile
# (7 MiB with 5 passes); its usual minimum is 19 MiB with 2 passes (README).
ARGON2_TIME_COST = _int_between("ARGON2_TIME_COST", 2, 1, 50)
ARGON2_MEMORY_COST = _int_between("ARGON2_MEMORY_COST", 102400, 7168, 4 * 1024 * 1024, " KiB")
ARGON2_PARALLELISM = _int_between("ARGON2_PARALLELISM", 1, 1, 64)
# The password-hashing bulkhead (authsite/hashers.py; README, "gunicorn"), per
# worker process: hashes at once, hashes waiting beyond which a sign-in is
# answered 503 service_unavailable with Retry-After (seconds).
PASSWORD_HASH_CONCURRENCY = _int_between("PASSWORD_HASH_CONCURRENCY", 1, 1, 64)
PASSWORD_HASH_QUEUE = _int_between("PASSWORD_HASH_QUEUE", 4, 0, 1000)
PASSWORD_HASH_RETRY_AFTER = _int_between("PASSWORD_HASH_RETRY_AFTER", 2, 1, 3600, " s")
# How much lower the hashing threads' scheduling priority is (nice; 0: not lowered).
PASSWORD_HASH_NICE = _int_between("PASSWORD_HASH_NICE", 10, 0, 19)
PASSWORD_REQUIRE_COMPLEXITY = env.bool("PASSWORD_REQUIRE_COMPLEXITY", default=True)
PASSWORD_MAX_LENGTH = 1024
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "phone", "username")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.MaximumLengthValidator"},
    {"NAME": "accounts.validators.ComplexityValidator"},
    # Last, and asks the network only when every rule above accepts the password.
    {"NAME": "accounts.validators.BreachedPasswordValidator"},
]
# Breached passwords (SPEC §18.2; README, "Passwords"): the Have I Been Pwned
# range API. off / fail_open (an outage lets passwords through, logged) /
# fail_closed. Off by default with DEBUG, so a first `make run` needs no internet.
PASSWORD_BREACH_CHECK = env.str("PASSWORD_BREACH_CHECK", default="off" if DEBUG else "fail_open")
if PASSWORD_BREACH_CHECK not in ("off", "fail_open", "fail_closed"):
    raise ImproperlyConfigured(
        f"PASSWORD_BREACH_CHECK must be off, fail_open or fail_closed "
        f"(got {PASSWORD_BREACH_CHECK!r})."
    )
PASSWORD_BREACH_API_URL = env.str(
    "PASSWORD_BREACH_API_URL", default="https://api.pwnedpasswords.com"
).strip()
if not PASSWORD_BREACH_API_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("PASSWORD_BREACH_API_URL must be an http(s):// address.")
try:
    PASSWORD_BREACH_TIMEOUT = float(env.str("PASSWORD_BREACH_TIMEOUT", default="2"))  # seconds
except ValueError:
    PASSWORD_BREACH_TIMEOUT = -1.0
if not 0 < PASSWORD_BREACH_TIMEOUT <= 30:
    raise ImproperlyConfigured(
        "PASSWORD_BREACH_TIMEOUT must be a number of seconds, above 0 and at most 30."
    )

DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="IN")
ACCOUNT_SIGNUP_REVEALS_EXISTING = env.bool("ACCOUNT_SIGNUP_REVEALS_EXISTING", default=False)
# --- Second factors and step-up (SPEC §16) ------------------------------------------
# One or more Fernet keys (comma-separated, the first encrypts) for TOTP secrets
# at rest; empty: derived from SECRET_KEY (accounts/crypto.py).
MFA_ENCRYPTION_KEY = env.str("MFA_ENCRYPTION_KEY", default="")
MFA_ALLOW_CODE_FACTOR = env.bool("MFA_ALLOW_CODE_FACTOR", default=True)
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=True)
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=False)
MFA_TRUST_DAYS = env.int("MFA_TRUST_DAYS", default=30)  # 0: no "trust this browser"
MFA_TOKEN_TTL = env.int("MFA_TOKEN_TTL", default=300)  # seconds
MFA_MAX_ATTEMPTS = env.int("MFA_MAX_ATTEMPTS", default=5)
MFA_RECOVERY_CODES = env.int("MFA_RECOVERY_CODES", default=10)
REAUTH_WINDOW = env.int("REAUTH_WINDOW", default=300)  # seconds
# Failed password (or authenticator-app) tries in a row before that factor is
# blocked until a reset (SPEC §18.3).
SIGNIN_MAX_CONSECUTIVE_FAILURES = env.int("SIGNIN_MAX_CONSECUTIVE_FAILURES", default=100)

# --- Passkeys (SPEC §17) --------------------------------------------------------------
WEBAUTHN_ENABLED = env.bool("WEBAUTHN_ENABLED", default=True)


def _default_rp_id() -> str:
    host = next((h for h in ALLOWED_HOSTS if h not in ("*", "")), "localhost").lstrip(".")
    # An IP address cannot be a relying party: browsers accept "localhost".
    return "localhost" if host.replace(".", "").isdigit() or ":" in host else host


# The relying party: the registrable domain passkeys belong to.
WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default=_default_rp_id())
WEBAUTHN_RP_NAME = env.str("WEBAUTHN_RP_NAME", default=SITE_NAME)
# Origins allowed to use them: web origins and native apps' (android:apk-key-hash:…).
WEBAUTHN_ORIGINS = env.list(
    "WEBAUTHN_ORIGINS",
    default=(
        ["http://localhost:8000", "http://localhost:8001"]
        if DEBUG
        else [f"https://{WEBAUTHN_RP_ID}"]
    ),
)
# Native apps whose passkeys are this site's, for /.well-known/assetlinks.json
# ("<package name>:<SHA-256 certificate fingerprint>", comma-separated) and
# /.well-known/apple-app-site-association ("<team id>.<bundle id>").
WEBAUTHN_ANDROID_APPS = env.list("WEBAUTHN_ANDROID_APPS", default=[])
WEBAUTHN_IOS_APPS = env.list("WEBAUTHN_IOS_APPS", default=[])

# How long a sign-up attempt (SPEC §22.2) can still be completed; its codes
# live OTP_TTL each, and can be re-sent until then.
SIGNUP_ATTEMPT_TTL = env.int("SIGNUP_ATTEMPT_TTL", default=60 * 60 * 24)  # seconds

# --- Web sessions ---------------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=60 * 60 * 24)  # seconds
SESSION_MAX_AGE = env.int("SESSION_MAX_AGE", default=60 * 60 * 24 * 14)  # seconds
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
SESSION_SAVE_EVERY_REQUEST = True  # the idle timeout slides with activity
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie (forms carry the token; the API is
# bearer-token only), so keep it out of reach of scripts too.
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "authsite.views.csrf_failure"

# --- One-time codes (SPEC §4) ---------------------------------------------------
OTP_LENGTH = env.int("OTP_LENGTH", default=6)
OTP_TTL = env.int("OTP_TTL", default=600)  # seconds
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_RESEND_COOLDOWN = env.int("OTP_RESEND_COOLDOWN", default=30)  # seconds
OTP_MAX_SENDS_PER_HOUR = env.int("OTP_MAX_SENDS_PER_HOUR", default=4)
OTP_MAX_FAILURES_PER_DAY = env.int("OTP_MAX_FAILURES_PER_DAY", default=10)
OTP_EXPOSE_IN_RESPONSE = env.bool("OTP_EXPOSE_IN_RESPONSE", default=DEBUG)
OTP_LOGIN_CREATES_ACCOUNT = env.bool("OTP_LOGIN_CREATES_ACCOUNT", default=True)
OTP_PURGE_GRACE = env.int("OTP_PURGE_GRACE", default=60 * 60 * 24)  # seconds
# "thread": delivery runs on a small worker pool after commit, off the request path.
# "sync": delivery runs in the request thread right after commit (tests).
OTP_DELIVERY_MODE = env.str("OTP_DELIVERY_MODE", default="thread")

# --- Delivery -------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# A backend EMAIL_URL cannot name: a django-anymail provider
# ("anymail.backends.resend.EmailBackend", with its ANYMAIL_* settings below).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="") or EMAIL_CONFIG["EMAIL_BACKEND"]
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="authsite <no-reply@localhost>")
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in env.ENVIRON.items()
    if key.startswith("ANYMAIL_")
}
SMS_BACKEND = env.str("SMS_BACKEND", default="otp.delivery.sms.ConsoleSmsBackend")
SMS_ALLOWED_COUNTRIES = [c.upper() for c in env.list("SMS_ALLOWED_COUNTRIES", default=[])]
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")

# --- JSON API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api.authentication.SessionTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["authsite.parsers.StrictJSONParser"],
    # DRF's, with a shortcut for Accept: application/json, */* or none.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "authsite.negotiation.JsonFirstContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "authsite.schema.AutoSchema",
    "EXCEPTION_HANDLER": "authsite.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_PAGINATION_CLASS": "authsite.api.EnvelopePagination",
    # No OPTIONS metadata: DRF's description of a view is not the envelope of
    # SPEC §5.1 and no client of ours reads it; OPTIONS answers 405.
    "DEFAULT_METADATA_CLASS": None,
    "PAGE_SIZE": 20,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "authsite API",
    "DESCRIPTION": (
        "Sign-up and sign-in by email or phone, with a password or a one-time code; "
        "token sessions; profile. Every response is a JSON envelope: "
        '`{"success": true, "message": ..., "data": ...}` or '
        '`{"success": false, "code": ..., "message": ..., "errors": ...}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "authsite.schema.add_variants",
        "authsite.schema.add_error_responses",
        "authsite.schema.add_constants",
        "authsite.schema.add_servers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": [("email", "email"), ("sms", "sms")],
        "SessionKindEnum": "accounts.models.DeviceSession.KINDS",
        "SecurityEventKindEnum": "accounts.models.SecurityEvent.KINDS",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }
    },
}

# The public base URLs of this deployment, for the schema's `servers`
# (comma-separated, e.g. https://auth.example.com); empty: the origin the
# schema is asked from.
API_SERVERS = env.list("API_SERVERS", default=[])

# --- CORS (SPEC §19.4): browser apps on other origins, on /api/ only -----------------
# Comma-separated origins (scheme://host[:port]) allowed to call the API from a
# browser; empty (the default) allows none. Tokens travel in the Authorization
# header, never in cookies, so credentials stay off.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Request-ID"]
# django-cors-headers' list, and the API's optional device header (SPEC §18.4).
CORS_ALLOW_HEADERS = (*cors_default_headers, "x-device-id")
CORS_PREFLIGHT_MAX_AGE = 86400

JWT_ACCESS_TTL = env.int("JWT_ACCESS_TTL", default=60 * 60)  # seconds
JWT_REFRESH_TTL = env.int("JWT_REFRESH_TTL", default=60 * 60 * 24 * 7)  # seconds
JWT_REFRESH_REUSE_GRACE = env.int("JWT_REFRESH_REUSE_GRACE", default=10)  # seconds
# Definite lifetimes of a token session (SPEC §18.1): it ends JWT_SESSION_MAX_AGE
# after the sign-in that opened it whatever its refreshes, and
# JWT_SESSION_IDLE_TIMEOUT after its last refresh (JWT_REFRESH_TTL, the
# refresh token's lifetime, is that idle timeout's default).
JWT_SESSION_MAX_AGE = env.int("JWT_SESSION_MAX_AGE", default=60 * 60 * 24 * 30)  # seconds
JWT_SESSION_IDLE_TIMEOUT = env.int("JWT_SESSION_IDLE_TIMEOUT", default=JWT_REFRESH_TTL)
JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="HS256")
SIMPLE_JWT = {
    "ALGORITHM": JWT_ALGORITHM,
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_ACCESS_TTL),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=JWT_REFRESH_TTL),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
    "LEEWAY": 0,
}

# --- Rate limits (SPEC §11) -------------------------------------------------------
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
# Named actions, applied the same way by the API and the pages. Rates are
# django-ratelimit strings ("count/period"); each can be set from the
# environment as RATELIMIT_<NAME>, e.g. RATELIMIT_LOGIN_IP=20/m.
_RATELIMIT_DEFAULTS = {
    "anon_ip": "60/m",  # every unauthenticated POST, per client IP
    "login_ip": "20/m",  # password and code sign-in attempts, per client IP
    "code_request_ip": "10/m",  # code requests (signup, login, reset, resend), per IP
}
RATELIMITS = {
    name: env.str(f"RATELIMIT_{name.upper()}", default=rate)
    for name, rate in _RATELIMIT_DEFAULTS.items()
}
# Failed sign-ins per identifier (SPEC §14 rule 3): after LOGIN_FAILURE_LIMIT
# failures within LOGIN_FAILURE_WINDOW seconds the identifier is locked for
# LOGIN_LOCKOUT_BASE seconds, doubling with each further failure up to
# LOGIN_LOCKOUT_MAX.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)
LOGIN_LOCKOUT_BASE = env.int("LOGIN_LOCKOUT_BASE", default=60)
LOGIN_LOCKOUT_MAX = env.int("LOGIN_LOCKOUT_MAX", default=60 * 60)
# How many reverse proxies' X-Forwarded-For hops to trust for the client IP.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Security events -------------------------------------------------------------
SECURITY_EVENT_RETENTION_DAYS = env.int("SECURITY_EVENT_RETENTION_DAYS", default=365)

# --- Security headers (effective in production) -----------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env.bool("SECURE_PROXY_SSL_HEADER", default=TRUSTED_PROXY_COUNT > 0):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # /healthz and /readyz are probed over plain HTTP by load balancers, /metrics
    # scraped by Prometheus on the private network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# `manage.py collectstatic` writes here; whitenoise serves it (hashed names,
# compressed, cached for a year).
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "authsite.storage.StaticStorage"
        )
    },
}

# --- i18n ---------------------------------------------------------------------------
# SPEC §21: English and Hindi, complete (authsite/tests/test_catalogues.py). A
# request's language: the account's (User.language, set on the profile), else
# the language cookie (the pages' footer switcher), else Accept-Language
# (authsite.i18n). Names in their own language: that is how people find theirs.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("hi", "हिन्दी")]
LANGUAGE_COOKIE_SECURE = not DEBUG  # as the session cookie
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Logging ---------------------------------------------------------------------------
# LOG_FORMAT=json: one JSON object per line (for a log shipper); text: plain lines.
# Either way every line of a request carries its request id (authsite.logging).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="text").lower()
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
# One request line per request (authsite.request: method, path, status, duration,
# view). gunicorn.conf.py sets it false when gunicorn's access log, which has the
# same fields, is on; a 5xx answer is written either way.
REQUEST_LOG = env.bool("REQUEST_LOG", default=True)

# --- Metrics (SPEC §20) -------------------------------------------------------------------
# /metrics answers 404 while empty; with a token, only to "Authorization: Bearer <token>".
# Under gunicorn, PROMETHEUS_MULTIPROC_DIR (read by prometheus-client from the
# environment; gunicorn.conf.py sets it) lets every worker's figures be added up.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
