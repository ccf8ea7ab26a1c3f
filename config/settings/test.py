"""Test settings: the same code paths as production, faster hashing, eager Celery
unless a real broker is given (CI's PostgreSQL run uses Redis and a real worker)."""
import os

# Under pytest-xdist each worker process (gw0, gw1, …) gets its own files folder and, with a
# Redis broker, its own Redis database, so that workers never see each other's files or jobs.
# The xdist controller imports these settings first and its environment is inherited by the
# workers; a worker's own child processes (the Celery worker of tests/worker.py, the
# subprocesses of test_backup_restore) inherit the worker's environment. The marker
# QMS_TEST_XDIST_WORKER makes the per-worker rewrite happen exactly once per worker, so a
# child sees the same folder and Redis database as the worker that started it.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_DEFAULT_VAR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "var", "test")
if _XDIST_WORKER and os.environ.get("QMS_TEST_XDIST_WORKER") != _XDIST_WORKER:
    os.environ["QMS_TEST_XDIST_WORKER"] = _XDIST_WORKER
    os.environ["QMS_VAR_DIR"] = os.path.join(os.environ.get("QMS_VAR_DIR", _DEFAULT_VAR_DIR), _XDIST_WORKER)
    _broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if _broker_url.startswith("redis://"):
        import re as _re

        _match = _re.match(r"^(redis://[^/]+)(?:/(\d+))?$", _broker_url)
        if _match:
            _db = int(_match.group(2) or 0) + 1 + int(_XDIST_WORKER.lstrip("gw") or 0)
            os.environ["CELERY_BROKER_URL"] = f"{_match.group(1)}/{_db}"  # read by celery.py and tests/worker.py
os.environ.setdefault("QMS_VAR_DIR", _DEFAULT_VAR_DIR)

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
# tests/test_worker_kill.py holds a worker's job at a named point (core/job_gate.py)
QMS_TEST_JOB_GATE = os.environ.get("QMS_TEST_JOB_GATE", "")
