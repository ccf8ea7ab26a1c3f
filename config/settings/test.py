"""Test settings: the same code paths as production, faster hashing, eager Celery
unless a real broker is given (CI's PostgreSQL run uses Redis and a real worker)."""
import os

os.environ.setdefault("QMS_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "var", "test"))

from .base import *  # noqa: E402,F401,F403
from . import base as _base  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = os.environ.get("AXES_ENABLED", "1") == "1"
# Eager by default; tests marked `worker` switch eager mode off (tests/worker.py) and
# run their jobs in a real worker process over the real broker.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "1") != "0"
MEDIA_ROOT = _base.VAR_DIR / "media"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": "1000/min"}}  # noqa: F405
STATIC_ROOT = _base.VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing folder
