"""Settings for allegro-hub, read from the environment.

Everything the hub writes lives in HUB_DATA_DIR (default: ./data). SQLite is the
default database; DATABASE_URL switches to PostgreSQL. A bad value stops the start
with a message that names the variable.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}"
        ) from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def envintervals(name: str) -> dict[str, int]:
    """``flow=seconds,…`` (e.g. ``orders=60,inventory=300``) into a dict."""
    intervals = {}
    for part in os.environ.get(name, "").split(","):
        if not part.strip():
            continue
        flow, _sep, seconds = part.partition("=")
        if not flow.strip() or not seconds.strip().isdigit() or int(seconds) < 1:
            raise ImproperlyConfigured(
                f"{name} must look like orders=60,inventory=300 (seconds, at "
                f"least 1), not {part.strip()!r}"
            )
        intervals[flow.strip()] = int(seconds)
    return intervals


def envsecret(name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (Docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE: cannot read {path}: {exc}"
            ) from None
    return os.environ.get(name) or None


def secret_in_data_dir(filename: str, make: object) -> str:
    """Read a generated secret from the data directory, creating it on first start."""
    path = DATA_DIR / filename
    assert callable(make)
    try:
        # O_EXCL: two processes starting at once must not write two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ImproperlyConfigured(f"cannot create {path}: {exc.strerror}") from None
    else:
        with os.fdopen(fd, "w") as f:
            f.write(make())
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"cannot read {path}: {exc.strerror}") from None
    if not value:
        raise ImproperlyConfigured(f"{path} is empty; delete it to generate a new one")
    return value


def keep_private(path: Path) -> None:
    """Take group and other access away from PATH if this user owns it."""
    try:
        info = path.stat()
        if info.st_uid == os.geteuid() and info.st_mode & 0o077:
            path.chmod(info.st_mode & 0o700)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ImproperlyConfigured(
            f"cannot make {path} private: {exc.strerror}"
        ) from None


def private_file(path: Path) -> None:
    """Create PATH readable by this user only (0600), or make it so."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as exc:
        raise ImproperlyConfigured(f"cannot create {path}: {exc.strerror}") from None
    keep_private(path)


DATA_DIR = Path(os.environ.get("HUB_DATA_DIR") or Path.cwd() / "data").resolve()
try:
    # 0700: the database, keys and Allegro tokens are nobody else's business.
    DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
except FileExistsError:
    raise ImproperlyConfigured(
        f"HUB_DATA_DIR {DATA_DIR} is a file, not a directory"
    ) from None
except OSError as exc:
    raise ImproperlyConfigured(
        f"HUB_DATA_DIR {DATA_DIR} cannot be created ({exc.strerror}); "
        "point HUB_DATA_DIR at a directory this user can write"
    ) from None
if not os.access(DATA_DIR, os.W_OK | os.X_OK):
    raise ImproperlyConfigured(
        f"HUB_DATA_DIR {DATA_DIR} is not writable by this user; fix its "
        "permissions or point HUB_DATA_DIR elsewhere"
    )

keep_private(DATA_DIR)

DEBUG = envbool("HUB_DEBUG", False)
SECRET_KEY = envsecret("HUB_SECRET_KEY") or secret_in_data_dir(
    "secret_key", lambda: secrets.token_urlsafe(50)
)
# Fernet key for Allegro tokens and client secrets at rest.
ENCRYPTION_KEY = envsecret("HUB_ENCRYPTION_KEY") or secret_in_data_dir(
    "encryption_key", lambda: Fernet.generate_key().decode()
)
try:
    Fernet(ENCRYPTION_KEY)
except ValueError:
    raise ImproperlyConfigured(
        "HUB_ENCRYPTION_KEY (or the data directory's encryption_key file) must be "
        "a Fernet key: 32 url-safe base64-encoded bytes"
    ) from None

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("HUB_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip()
    for o in os.environ.get("HUB_CSRF_TRUSTED_ORIGINS", "").split(",")
    if o.strip()
]
# The address the hub is reached at, for OAuth redirect URIs; empty = from the request.
PUBLIC_URL = os.environ.get("HUB_PUBLIC_URL", "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # For its templates and static files: /api/docs then works offline (no CDN).
    "ninja",
    # Login throttling: failed logins per user and address, listed in the admin.
    "axes",
    "hub.text",
    "hub.catalog",
    "hub.orders",
    "hub.allegro",
    "hub.jobs",
    "hub.api",
    "hub.web",
    "hub.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hub.web.middleware.ApiErrorsAsJson",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hub.web.middleware.LoginRequiredMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
            # money, when, day, channel_status, …: in every template.
            "builtins": ["hub.web.templatetags.hub_formats"],
        },
    },
]


# Memory-backed when the system has it: the test database is thrown away anyway.
TEST_DB_DIR = (
    Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
)


def database_config() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL")
    if not url:
        # SQLite creates its file (and the -wal/-shm files, which copy the
        # database file's mode) as the umask says, usually 0644: create it 0600.
        private_file(DATA_DIR / "hub.sqlite3")
        for suffix in ("-wal", "-shm"):
            keep_private(DATA_DIR / f"hub.sqlite3{suffix}")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "hub.sqlite3",
            # IMMEDIATE: writers take the lock at BEGIN, so two writers never
            # deadlock upgrading a read lock; busy_timeout waits instead of failing.
            "OPTIONS": {
                "init_command": (
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
            # Tests run on a file too, not Django's shared in-memory database:
            # that one locks whole tables between threads without waiting, and
            # the runner's threads (hub/jobs) write concurrently like in `run`.
            "TEST": {"NAME": str(TEST_DB_DIR / f"hub-test-{os.getpid()}.sqlite3")},
        }
    try:
        config = dict(dj_database_url.parse(url, conn_max_age=60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid URL: {exc}") from None
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_URL must be a PostgreSQL URL (postgresql://user@host/db); "
            "leave it unset for SQLite"
        )
    return config


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user and address before the password is checked.
    "hub.web.throttle.LoginThrottle",
    "django.contrib.auth.backends.ModelBackend",
]
# django-axes: after 5 wrong passwords for one user from one address, that user is
# locked out from that address for 15 minutes (lifted by time; staff see and can
# lift lockouts under Admin → Axes). Without ipware, the address is REMOTE_ADDR:
# behind a reverse proxy that is the proxy's.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "hub.web.throttle.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = os.environ.get("HUB_LANGUAGE", "en")
LANGUAGES = [("en", "English"), ("pl", "Polski")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("HUB_TIME_ZONE", "Europe/Warsaw")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# Exists even before any collectstatic, or WhiteNoise warns on every start.
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve from the app directories too, so `allegro-hub run` works without collectstatic.
WHITENOISE_USE_FINDERS = True

# PUT /api/levels takes up to 10 000 rows in one call; pretty-printed, with long
# SKUs and location names escaped as \uXXXX, that is up to about 13 MB (Django's
# default of 2.5 MB refused it). Forms are far below either limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("HUB_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Allegro: install-wide application credentials (a channel may carry its own).
ALLEGRO_CLIENT_ID = os.environ.get("ALLEGRO_CLIENT_ID", "")
ALLEGRO_CLIENT_SECRET = envsecret("ALLEGRO_CLIENT_SECRET") or ""
# Share of Allegro's 9 000 requests/min per Client ID the hub allows itself.
ALLEGRO_REQUESTS_PER_MINUTE = envint("ALLEGRO_REQUESTS_PER_MINUTE", 7200, minimum=1)
ALLEGRO_HTTP_TIMEOUT = envint("ALLEGRO_HTTP_TIMEOUT", 30, minimum=1)

# Redis: Celery broker and the shared rate limit; empty = embedded runner, in-process.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = envbool("HUB_CELERY_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("HUB_CELERY_QUEUE") or "allegro-hub"
CELERY_TASK_IGNORE_RESULT = True
# A killed worker's message goes back to the queue; the lease keeps it single.
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /metrics for a Prometheus scraper: Authorization: Bearer <this> (or a login).
HUB_METRICS_TOKEN = envsecret("HUB_METRICS_TOKEN") or ""
# How often `allegro-hub beat` hands the due flows to the workers.
HUB_DISPATCH_SECONDS = envint("HUB_DISPATCH_SECONDS", 2, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "dispatch": {
        "task": "hub.jobs.dispatch",
        "schedule": float(HUB_DISPATCH_SECONDS),
        "options": {"expires": float(HUB_DISPATCH_SECONDS) * 5},
    },
    "prune": {"task": "hub.jobs.prune", "schedule": 3600.0},
}

# The runner (hub/jobs): how often each flow runs per channel (a flow's own
# default otherwise), how soon after a change a triggered flow runs, how long a
# worker's claim on a flow lasts without a heartbeat, how many flows the
# embedded runner of `allegro-hub run` runs at once, how long runs are kept.
HUB_SYNC_INTERVALS = envintervals("HUB_SYNC_INTERVALS")
HUB_TRIGGER_DEBOUNCE = envint("HUB_TRIGGER_DEBOUNCE", 2, minimum=0)
HUB_LEASE_SECONDS = envint("HUB_LEASE_SECONDS", 60, minimum=5)
HUB_WORKER_THREADS = envint("HUB_WORKER_THREADS", 2, minimum=1)
HUB_RUN_HISTORY_DAYS = envint("HUB_RUN_HISTORY_DAYS", 14, minimum=1)

LOG_LEVEL = os.environ.get("HUB_LOG_LEVEL") or "INFO"
# "json": one JSON object a line (for log collectors); "plain" for people.
LOG_FORMAT = os.environ.get("HUB_LOG_FORMAT") or "plain"
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(
        f"HUB_LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "hub.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Every login and cleanup at INFO; lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}
