"""Settings shared by every environment. Everything that differs comes from the environment."""
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("QMS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The demo key is only for the embedded demo; production.py refuses to start without SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-demo-key-set-SECRET_KEY-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "viewflow",
    "viewflow.workflow",
    # the layers, bottom up (imports run one way, checked by tests/test_architecture.py)
    "core",
    "accounts",
    "forms",
    "inbox",
    "workflows",
    "evidence",
    # one app per procedure
    "procedures.documents",
    "procedures.order_review",
    "procedures.complaints",
    "procedures.capa",
    "procedures.requirements",
    "procedures.satisfaction",
    "procedures.management_review",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.UnchangedSessionMiddleware",  # a session written only when its content changed
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.LoginRequiredMiddleware",
    "evidence.middleware.AuditorReadOnlyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.PasswordExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "viewflow.middleware.SiteMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.context.ActorMiddleware",
    "accounts.middleware.FlowBusyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.company",
                "inbox.context_processors.menu_counts",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'qms.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the Celery worker writes; the busy
    # timeout makes a writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before any password is checked
    # asked before ModelBackend: a permission granted by a membership (every queue, step and manager check) is
    # answered from the memberships already read, without reading the permission tables
    "accounts.backends.DepartmentRoleBackend",
    # Django's ModelBackend (passwords, sessions, permissions granted in the admin), its two permission tables read
    # in one query. A session signed in under django.contrib.auth.backends.ModelBackend (before 2026-12-05) is
    # signed in again once.
    "accounts.backends.ModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]  # ours first: it wins over viewflow's zh_Hans
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "qms@localhost")

SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

# --- login throttling (SIG-12): django-axes locks an account+IP after repeated failures
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A fixed window: attempts during the lock are refused without restarting it, and the refusal
# says when it ends (core.lockout).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"

# --- REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "evidence.permissions.AuditorsReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"auth": os.environ.get("API_AUTH_RATE", "20/min")},
    "EXCEPTION_HANDLER": "core.rest.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "QMS engine API",
    "DESCRIPTION": "Order/contract review and other ISO 9001 procedures as workflows.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "evidence.permissions.AuditorsReadOnly"],
    "ENUM_NAME_OVERRIDES": {
        "DepartmentEnum": "accounts.models.Department",
        "DocumentTypeEnum": "procedures.documents.models.DocumentType",
        "KanoAnswerEnum": "procedures.requirements.models.KanoAnswer.values",  # a KANO pair's two answers
        "RecordFileKindEnum": "core.models.RecordFile.Kind",  # a stored file: pdf, pdfa
    },
    # Swagger UI served from our own static files: no CDN
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- the engine
QMS = {
    "COMPANY_NAME_ZH": os.environ.get("QMS_COMPANY_NAME_ZH", "示范精密制造有限公司"),
    "COMPANY_NAME_EN": os.environ.get("QMS_COMPANY_NAME_EN", "Demo Precision Manufacturing Co., Ltd."),
    # SIG-12: consecutive wrong signing passwords before signing is locked for the user
    "SIGNING_FAILURE_LIMIT": int(os.environ.get("QMS_SIGNING_FAILURE_LIMIT", "5")),
    # SIG-12: API tokens expire this many hours after they were issued (0: never); they are also
    # revoked on a password change, a login lock-out and a deactivation (core.authentication)
    "API_TOKEN_MAX_AGE_HOURS": float(os.environ.get("QMS_API_TOKEN_MAX_AGE_HOURS", "8")),
    # SIG-12: passwords expire after this many days (0: never)
    "PASSWORD_MAX_AGE_DAYS": int(os.environ.get("QMS_PASSWORD_MAX_AGE_DAYS", "180")),
    # P1 / src 6.2.2: an order whose every line is at most this many pieces is a sample
    "SAMPLE_MAX_QUANTITY": int(os.environ.get("QMS_SAMPLE_MAX_QUANTITY", "200")),
    "PDF_FONT_FAMILY": os.environ.get("QMS_PDF_FONT_FAMILY", "Noto Sans CJK SC"),
    # the compact CJK faces the record PDFs are set in, built by `manage.py build_pdf_fonts` (forms/pdf_fonts.py)
    "PDF_FONTS_DIR": os.environ.get("QMS_PDF_FONTS_DIR", str(BASE_DIR / "build" / "pdf-fonts")),
    "MAX_UPLOAD_MB": int(os.environ.get("QMS_MAX_UPLOAD_MB", "10")),
    "MAX_FUTURE_YEARS": int(os.environ.get("QMS_MAX_FUTURE_YEARS", "5")),  # business dates ≤ today + N years
    "MAX_PDF_PAGES": int(os.environ.get("QMS_MAX_PDF_PAGES", "2000")),  # a longer PDF upload is refused
    # P2: a complaint of the same customer, product and defect class within this many days is a repeat
    "REPEAT_COMPLAINT_DAYS": int(os.environ.get("QMS_REPEAT_COMPLAINT_DAYS", "180")),
    # P2.7: the scheduled complaint analysis covers this many full calendar months before its run
    "COMPLAINT_ANALYSIS_MONTHS": int(os.environ.get("QMS_COMPLAINT_ANALYSIS_MONTHS", "1")),
    # P4 document control
    "ACKNOWLEDGE_WITHIN_DAYS": int(os.environ.get("QMS_ACKNOWLEDGE_WITHIN_DAYS", "14")),
    "PERIODIC_REVIEW_LEAD_DAYS": int(os.environ.get("QMS_PERIODIC_REVIEW_LEAD_DAYS", "30")),
    # P3: the effectiveness check falls this many days after the last action's due date (CA-3)
    "CAPA_VERIFICATION_DAYS": int(os.environ.get("QMS_CAPA_VERIFICATION_DAYS", "30")),
    # Inbox: due dates and escalations (defaults of every step; per step in the admin, "Step targets")
    "WORKING_WEEKDAYS": [int(d) for d in os.environ.get("QMS_WORKING_WEEKDAYS", "0,1,2,3,4").split(",")],  # Mon=0
    "DEFAULT_STEP_WORKING_DAYS": int(os.environ.get("QMS_DEFAULT_STEP_WORKING_DAYS", "3")),
    "REMINDER_BEFORE_HOURS": int(os.environ.get("QMS_REMINDER_BEFORE_HOURS", "24")),
    "ESCALATION_L1_AFTER_HOURS": int(os.environ.get("QMS_ESCALATION_L1_AFTER_HOURS", "0")),
    "ESCALATION_L2_AFTER_WORKING_DAYS": int(os.environ.get("QMS_ESCALATION_L2_AFTER_WORKING_DAYS", "2")),
    "ESCALATION_L3_AFTER_WORKING_DAYS": int(os.environ.get("QMS_ESCALATION_L3_AFTER_WORKING_DAYS", "5")),
    # Warn the Quality manager this many days before a year begins whose holidays are not entered
    "CALENDAR_WARN_DAYS": int(os.environ.get("QMS_CALENDAR_WARN_DAYS", "45")),
    # links in notification e-mails start with this address
    "SITE_URL": os.environ.get("QMS_SITE_URL", "http://127.0.0.1:8000"),
    # processes that write an evidence bundle of BUNDLE_PARALLEL_FROM records or more (evidence.bundles.
    # bundle_processes); 0: the machine's cores, at most 4; 1: the worker's process alone
    "BUNDLE_PROCESSES": int(os.environ.get("QMS_BUNDLE_PROCESSES", "0")),
    "BUNDLE_PARALLEL_FROM": int(os.environ.get("QMS_BUNDLE_PARALLEL_FROM", "2000")),
    # --- Audit anchoring (docs/AUDIT-ANCHORING.md): signed checkpoints of the audit chain kept outside the database.
    # The Ed25519 private key file (`manage.py checkpoint_keygen`; never in the database or the repository).
    # Without it no checkpoint is written and verify_audit warns that the chain is not anchored.
    "CHECKPOINT_KEY_FILE": os.environ.get("QMS_CHECKPOINT_KEY_FILE", ""),
    # Public key(s) only, for machines that verify (PEM; keep old keys in it after a rotation).
    "CHECKPOINT_PUBLIC_KEY_FILE": os.environ.get("QMS_CHECKPOINT_PUBLIC_KEY_FILE", ""),
    # The append-only store, one JSON file per checkpoint: in production another machine or a write-once mount.
    "CHECKPOINT_DIR": os.environ.get("QMS_CHECKPOINT_DIR", str(VAR_DIR / "checkpoints")),
    # A copy of each checkpoint (number, audit seq and hash) by e-mail: to these addresses, and to the quality
    # managers when QMS_CHECKPOINT_MAIL_QUALITY_MANAGERS is on.
    "CHECKPOINT_MAIL_TO": env_list("QMS_CHECKPOINT_MAIL_TO", ""),
    "CHECKPOINT_MAIL_QUALITY_MANAGERS": env_bool("QMS_CHECKPOINT_MAIL_QUALITY_MANAGERS", False),
    # Optional RFC 3161 hook: dotted path of a callable(bytes) -> JSON-able timestamp token kept with each checkpoint.
    "CHECKPOINT_TIMESTAMPER": os.environ.get("QMS_CHECKPOINT_TIMESTAMPER", ""),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

from .celery import *  # noqa: E402,F401,F403  (topic module)

# --- Content-Security-Policy on every response (django-csp) -------------------------------------------------
# Scripts: our own files, plus the inline scripts that carry this response's nonce (only Swagger UI's start-up
# script, templates/drf_spectacular/swagger_ui.html, and django-celery-beat's admin form); no 'unsafe-inline',
# no 'unsafe-eval'. Style elements: the same (Swagger UI's, the browsable API's code colours, and Turbo's
# progress bar, which takes the nonce from the <meta name="csp-nonce"> of templates/viewflow/base.html).
# Style *attributes* (style="…") are allowed ('unsafe-inline' in style-src-attr only): viewflow's material
# templates, the admin's and ours use them throughout, and a nonce cannot cover an attribute. They cannot run
# script, and a url() in one is held to img-src/font-src 'self', so this relaxation cannot load anything from
# elsewhere. An SVG image opened on its own (viewflow's flow charts) gets a stricter policy of its own:
# config/csp.py. Put no inline <script>/<style> in viewflow pages: Turbo swaps pages without reloading, so
# the first page's policy (and nonce) stays in force and a later page's nonce does not match it; use a file
# under static/ (tests/test_csp.py checks the pages).
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE  # noqa: E402

INSTALLED_APPS += ["csp"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
MIDDLEWARE.insert(MIDDLEWARE.index("csp.middleware.CSPMiddleware") + 1, "config.csp.SvgImagePolicyMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
