"""A real Celery worker process for the tests marked `worker`.

Use from tests/conftest.py with

    from worker import celery_worker_process, wait_until  # noqa: F401

(tests/ has no __init__.py, so pytest's default "prepend" import mode puts tests/
on sys.path when it imports tests/conftest.py.)

The worker runs only when CELERY_BROKER_URL is a redis:// URL (CI's PostgreSQL run);
otherwise the fixture skips the test, and the other tests run Celery eagerly.
The worker is pointed at pytest-django's *test* database and at the test settings'
var/ directory (MEDIA_ROOT), so tests using it must commit what the worker reads:

    @pytest.mark.worker
    @pytest.mark.django_db(transaction=True)
    def test_pdf_is_rendered(celery_worker_process):
        ...start something that queues a task...
        wait_until(lambda: Record.objects.filter(pdf__gt="").exists())
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

__all__ = ["celery_worker_process", "wait_until", "WorkerProcess"]

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate, timeout=60, interval=0.2, message=None):
    """Poll predicate() until it returns something truthy and return that value;
    fail the test if it has not after `timeout` seconds. `message` may be a string
    or a callable returning one (evaluated only on failure)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            pytest.fail(text or f"condition not met within {timeout} s: {predicate!r}")
        time.sleep(interval)


@dataclasses.dataclass
class WorkerProcess:
    process: subprocess.Popen
    nodename: str
    log_path: Path
    database_url: str
    broker_url: str

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines=60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def _database_url(settings_dict) -> str | None:
    """URL for dj_database_url that names the same (test) database as settings_dict."""
    engine = settings_dict["ENGINE"]
    name = str(settings_dict["NAME"])
    if engine == "django.db.backends.sqlite3":
        if name == ":memory:" or name.startswith("file:memorydb") or "mode=memory" in name:
            return None  # an in-memory database cannot be shared with another process
        return f"sqlite:///{Path(name).resolve()}"
    scheme = {
        "django.db.backends.postgresql": "postgres",
        "django.db.backends.mysql": "mysql",
    }.get(engine)
    if scheme is None:
        return None
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    port = settings_dict.get("PORT")
    return f"{scheme}://{auth}{host}{':' + str(port) if port else ''}/{quote(name, safe='')}"


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """Start `celery -A config worker` against the test database; yield a WorkerProcess."""
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not broker_url.startswith(("redis://", "rediss://")):
        pytest.skip(
            "needs a real Celery worker: set CELERY_BROKER_URL=redis://... "
            "(and DATABASE_URL=postgres://...) to run the tests marked `worker`"
        )

    from django.conf import settings
    from django.db import connection

    from config.celery import app

    database_url = _database_url(connection.settings_dict)
    if database_url is None:
        pytest.skip(
            f"the test database {connection.settings_dict['NAME']!r} "
            f"({connection.settings_dict['ENGINE']}) cannot be shared with a worker process; "
            "use DATABASE_URL=postgres://..."
        )

    var_dir = Path(settings.VAR_DIR).resolve()
    log_dir = var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "celery-worker.log"
    nodename = f"qms-test-{os.getpid()}-{uuid.uuid4().hex[:6]}@localhost"

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="0",
        QMS_VAR_DIR=str(var_dir),  # same MEDIA_ROOT as this process
        PYTHONUNBUFFERED="1",
    )
    # Messages left in the queue by an interrupted earlier run would be executed
    # against this run's fresh database: drop them first.
    app.control.purge()

    cmd = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--pool=solo", "--concurrency=1", "--loglevel=info", "-Q", "celery",
        "-n", nodename, "--without-mingle", "--without-gossip",
    ]
    log_file = open(log_path, "w", encoding="utf-8")
    process = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    worker = WorkerProcess(process, nodename, log_path, database_url, broker_url)
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"Celery worker exited with code {process.returncode} before it was ready; "
                    f"{log_path}:\n{worker.log_tail()}"
                )
            if app.control.ping(destination=[nodename], timeout=0.5):
                break
            if time.monotonic() >= deadline:
                pytest.fail(
                    f"Celery worker not ready after {READY_TIMEOUT:.0f} s; {log_path}:\n{worker.log_tail()}"
                )
        yield worker
    finally:
        _stop(process)
        log_file.close()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # SIGTERM: warm shutdown, the running task may finish
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@pytest.fixture
def real_worker(celery_worker_process):
    """For one test: publish tasks to the real broker (not eagerly) so that the
    worker process started by `celery_worker_process` runs them."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield celery_worker_process
    finally:
        app.conf.task_always_eager = previous
