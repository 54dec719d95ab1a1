"""VoiceOps settings, read from the environment (README: "Configuration").

Every variable is parsed strictly by `voiceops.env`; a malformed value stops the process.
With no environment at all the project runs the zero-setup demo: SQLite, no Redis.
"""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from voiceops.env import env_bool, env_decimal, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VOICEOPS_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", required=not DEBUG) or "insecure-development-key-" + "x" * 40
# Earlier keys still accepted for what they signed (sessions, media-stream tokens) while a
# new SECRET_KEY takes over: rotation without logging everyone out (docs/operations.md).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

# The https origin Twilio reaches us at. Webhook signatures are computed by Twilio over the
# public URL, so validation and the URLs we hand to Twilio are both built from it.
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "http://127.0.0.1:8000", schemes=("http", "https"))

TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_API_URL = env_url("TWILIO_API_URL", "https://api.twilio.com", schemes=("http", "https"))
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_url("OPENAI_BASE_URL", "https://api.openai.com/v1", schemes=("http", "https"))
OPENAI_REALTIME_MODEL = env_str("OPENAI_REALTIME_MODEL", "gpt-realtime-2.1")
OPENAI_ANALYSIS_MODEL = env_str("OPENAI_ANALYSIS_MODEL", "gpt-5-mini")
OPENAI_ANALYSIS_TIMEOUT_SECONDS = env_int("OPENAI_ANALYSIS_TIMEOUT_SECONDS", 30, minimum=1)

REDIS_URL = env_url("REDIS_URL", None, schemes=("redis", "rediss", "unix"))

INSTALLED_APPS = [
    "daphne",
    # The admin theme (dashboards, charts, tabs, filters); must come before the admin.
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "axes",
    "tenancy",
    "campaigns",
    "calls",
    "agents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenancy.middleware.TenantMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# Permissions come from the member's role in the current organisation (tenancy.roles);
# django-axes counts failed logins first and refuses a locked-out username and address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tenancy.backends.RoleBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "voiceops.urls"
ASGI_APPLICATION = "voiceops.asgi.application"

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
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
if _database_url:
    try:
        _database = dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is malformed: {error}") from None
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _database = {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "demo.sqlite3"}
    # SQLite is for the single-machine demo only; concurrent workers wait rather than fail.
    _database["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# People sign in through the admin: its login page (the theme's form has no `next` field, so
# signing in at /admin/login/ itself lands here) and its dashboard.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# daphne serves no static files itself; WhiteNoise serves the admin's assets from the app
# process, from STATIC_ROOT after `collectstatic`, or straight from the apps when debugging.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# Uploads (contact files, suppression lists): a request body above MAX_UPLOAD_MB is refused
# with 413 before Django reads it (voiceops/request_size.py). Files above Django's
# FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) are spooled to the temporary directory, not memory.
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_MB", 50, minimum=1) * 1024 * 1024
# A contact CSV with more columns than this is refused before it is stored.
CONTACT_CSV_MAX_COLUMNS = env_int("CONTACT_CSV_MAX_COLUMNS", 200, minimum=2)

# The compliance engine stops a campaign's dialing when its calls abandoned (no agent audio
# within 2 s of a person's answer) over the last 30 days exceed this share of its calls
# answered by a person. The legal limit is 3 % (47 CFR 64.1200(a)(7)); the default keeps a
# margin below it (docs/compliance.md, rule 11).
ABANDON_RATE_PAUSE_PERCENT = env_decimal("ABANDON_RATE_PAUSE_PERCENT", Decimal("2"))
if not (
    ABANDON_RATE_PAUSE_PERCENT.is_finite()
    and Decimal(0) <= ABANDON_RATE_PAUSE_PERCENT <= Decimal(3)
):
    raise ImproperlyConfigured(
        f"ABANDON_RATE_PAUSE_PERCENT={ABANDON_RATE_PAUSE_PERCENT} must be between 0 and 3 "
        "(the legal limit)."
    )

# Security: production defaults; each can be relaxed explicitly for local runs.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# The container health check asks daphne directly, over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "600/minute")
if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured(
        f"API_THROTTLE_RATE={API_THROTTLE_RATE!r} is not a rate such as '600/minute'."
    )
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.api_auth.ApiKeyAuthentication",
        "tenancy.api_auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tenancy.api_auth.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["tenancy.api_auth.ClientRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "voiceops.api_schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "voiceops.api_errors.errors_in_one_shape",
}

# The OpenAPI schema (/api/schema/) and its interactive docs (/api/docs/, Swagger UI), whose
# scripts and styles come from drf-spectacular-sidecar: no CDN, no internet needed. (Redoc is
# left out: its page loads web fonts from the internet.)
SPECTACULAR_SETTINGS = {
    "TITLE": "VoiceOps API",
    "DESCRIPTION": (
        "Contacts, consent and suppressions; agents, surveys and phone numbers; campaigns, "
        "their audience and progress; calls with transcripts, events and (for finance and "
        "admin roles) costs. Every request acts in one organisation. Errors have one shape: "
        '`{"errors": [{"field": ..., "message": ...}]}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.Campaign.Status",
        "CampaignKindEnum": "campaigns.models.Campaign.Kind",
        "QuestionKindEnum": "campaigns.models.Question.Kind",
        "TargetStatusEnum": "campaigns.models.Target.Status",
        "ImportJobStatusEnum": "campaigns.models.ImportJob.Status",
        "CallStatusEnum": "calls.models.CallStatus",
        "SuppressionSourceEnum": "campaigns.models.Suppression.Source",
    },
}

# The cache holds API throttling counters: shared by every process through Redis.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "voiceops-cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Channels: Redis when configured (several daphne processes share groups), else in-memory.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # The layer polls with 5 s blocking pops: a read timeout well above that keeps an
            # idle consumer alive, and still drops a connection that went silent for good.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Email (budget alerts to finance and admins): SMTP when EMAIL_HOST is set, else printed to
# the console, as in the demo.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "VoiceOps <voiceops@localhost>")

# Celery (voiceops/celery.py reads every CELERY_* name). Without Redis, the demo uses a
# filesystem broker that the web, worker and beat processes share on one machine.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A worker must survive a broker restart (voiceops/broker.py).
    CELERY_BROKER_TRANSPORT = "voiceops.broker:Transport"
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Beat writes its schedule file after every task it sends (a few bytes every 3 s), so the
# file's age tells a health check whether beat is alive (voiceops/healthcheck.py).
CELERY_BEAT_SYNC_EVERY = 1

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

# The admin theme (django-unfold): the console's title and colours; the sidebar, dashboard
# and pages are built on its components, with every asset served from the install.
UNFOLD = {
    "SITE_TITLE": "VoiceOps console",
    "SITE_HEADER": "VoiceOps",
    "SITE_SUBHEADER": "Calls, campaigns and costs",
    "SITE_SYMBOL": "call",
    # There is no public site: the console is the product, and "/" redirects here.
    "SITE_URL": None,
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "voiceops.dashboard.dashboard_callback",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "voiceops.navigation.sidebar_navigation",
    },
}
