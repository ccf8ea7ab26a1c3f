"""Test settings: the same code paths as production, faster hashing, eager Celery
unless a real broker is given (CI's PostgreSQL run uses Redis and a real worker)."""
import os

os.environ.setdefault("QMS_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "var", "test"))

from .base import *  # noqa: E402,F401,F403
from . import base as _base  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = os.environ.get("AXES_ENABLED", "1") == "1"
if not CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
    CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = _base.VAR_DIR / "media"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}  # noqa: F405
