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

Tests that kill workers use `own_workers` instead: it starts prefork workers of their
own (each in its own process group, so `kill()` can SIGKILL a worker with its pool
processes), pauses the session worker meanwhile, and drops what the killed workers left
in the broker when the test ends. `restore_unacked()` hands the messages of a dead worker
back to the queue at once, as Redis does when the visibility timeout has passed.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

__all__ = ["celery_worker_process", "own_workers", "restore_unacked", "wait_until", "WorkerProcess"]

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


def _worker_environment():
    """(broker URL, test database URL) for a worker process; skips the test when there can be none."""
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not broker_url.startswith(("redis://", "rediss://")):
        pytest.skip(
            "needs a real Celery worker: set CELERY_BROKER_URL=redis://... "
            "(and DATABASE_URL=postgres://...) to run the tests marked `worker`"
        )

    from django.db import connection

    database_url = _database_url(connection.settings_dict)
    if database_url is None:
        pytest.skip(
            f"the test database {connection.settings_dict['NAME']!r} "
            f"({connection.settings_dict['ENGINE']}) cannot be shared with a worker process; "
            "use DATABASE_URL=postgres://..."
        )
    return broker_url, database_url


def start_worker(broker_url, database_url, *, label="", pool="solo", env=None, new_session=False):
    """Start `celery -A config worker` against the test database and wait until it answers a ping."""
    from django.conf import settings

    from config.celery import app

    var_dir = Path(settings.VAR_DIR).resolve()
    log_dir = var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"celery-worker{'-' + label if label else ''}.log"
    nodename = f"qms-test{'-' + label if label else ''}-{os.getpid()}-{uuid.uuid4().hex[:6]}@localhost"

    worker_env = dict(os.environ)
    worker_env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker_url,
        CELERY_TASK_ALWAYS_EAGER="0",
        QMS_VAR_DIR=str(var_dir),  # same MEDIA_ROOT as this process
        PYTHONUNBUFFERED="1",
        **(env or {}),
    )
    cmd = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        f"--pool={pool}", "--concurrency=1", "--loglevel=info", "-Q", "celery",
        "-n", nodename, "--without-mingle", "--without-gossip",
    ]
    log_file = open(log_path, "w", encoding="utf-8")
    process = subprocess.Popen(
        cmd, cwd=ROOT, env=worker_env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=new_session,
    )
    log_file.close()  # the child has its own descriptor
    worker = WorkerProcess(process, nodename, log_path, database_url, broker_url)
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"Celery worker exited with code {process.returncode} before it was ready; "
                f"{log_path}:\n{worker.log_tail()}"
            )
        if app.control.ping(destination=[nodename], timeout=0.5):
            return worker
        if time.monotonic() >= deadline:
            _stop(process)
            pytest.fail(f"Celery worker not ready after {READY_TIMEOUT:.0f} s; {log_path}:\n{worker.log_tail()}")


def _redis_channel(connection):
    channel = connection.default_channel
    return channel, channel.client


def purge_broker():
    """Drop every message: those queued and those a lost worker left unacknowledged (which Redis
    would hand out again after the visibility timeout, possibly to a later test run)."""
    from config.celery import app

    app.control.purge()
    with app.connection_for_write() as connection:
        channel, client = _redis_channel(connection)
        client.delete(channel.unacked_key, channel.unacked_index_key)


def restore_unacked():
    """Put every unacknowledged message back in its queue now, as Redis does once the visibility
    timeout has passed (the worker that took them must be dead). Returns how many."""
    from config.celery import app

    with app.connection_for_write() as connection:
        channel, client = _redis_channel(connection)
        tags = client.hkeys(channel.unacked_key)
        for tag in tags:
            channel.qos.restore_by_tag(tag, client)
    return len(tags)


_SESSION_WORKERS: list[WorkerProcess] = []


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """Start `celery -A config worker` against the test database; yield a WorkerProcess."""
    broker_url, database_url = _worker_environment()
    # Messages left in the broker by an interrupted earlier run would be executed
    # against this run's fresh database: drop them first.
    purge_broker()
    worker = start_worker(broker_url, database_url)
    _SESSION_WORKERS.append(worker)
    try:
        yield worker
    finally:
        _SESSION_WORKERS.remove(worker)
        _stop(worker.process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # SIGTERM: warm shutdown, the running task may finish
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _processes():
    """(pid, state, parent pid, process group) of every process, from /proc."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        yield int(stat.parent.name), fields[0], int(fields[1]), int(fields[2])


def pool_processes(worker: WorkerProcess) -> list[int]:
    """The pids of the worker's live pool (child) processes."""
    return [pid for pid, state, ppid, _ in _processes() if ppid == worker.process.pid and state != "Z"]


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies waiting for their parent do not count)."""
    return any(group == pgid and state != "Z" for _, state, _, group in _processes())


class OwnWorkers:
    """Worker processes started and killed by one test (see `own_workers`)."""

    def __init__(self, broker_url, database_url):
        self.broker_url, self.database_url = broker_url, database_url
        self.started: list[WorkerProcess] = []

    def start(self, label="own", **env):
        """A prefork worker (one pool process) in its own process group; `env` is added to its environment."""
        worker = start_worker(self.broker_url, self.database_url, label=f"{label}{len(self.started) + 1}",
                              pool="prefork", env=env, new_session=True)
        self.started.append(worker)
        return worker

    def kill(self, worker: WorkerProcess) -> None:
        """kill -9 the worker and its pool processes at once, and wait until they are gone."""
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(10)
        wait_until(lambda: not _group_alive(worker.process.pid), timeout=10,
                   message=f"processes of the killed worker {worker.nodename} are still running")

    def kill_pool(self, worker: WorkerProcess) -> list[int]:
        """kill -9 only the worker's pool processes (as the OOM killer would); the worker lives on."""
        pids = pool_processes(worker)
        assert pids, f"the worker {worker.nodename} has no pool process"
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def stop_all(self):
        for worker in self.started:
            group = worker.process.pid
            if worker.process.poll() is None:
                os.killpg(group, signal.SIGTERM)  # warm shutdown
                try:
                    worker.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    pass
            if _group_alive(group):
                os.killpg(group, signal.SIGKILL)
            if worker.process.poll() is None:
                worker.process.wait(10)


@pytest.fixture
def own_workers(django_db_setup, django_db_blocker):
    """For a test that kills workers: start its own (`own_workers.start(**env)`), publish to the
    real broker, keep the session worker (if any) from taking the test's messages meanwhile, and
    drop every message left behind at the end."""
    broker_url, database_url = _worker_environment()
    from config.celery import app

    purge_broker()
    paused = [w.nodename for w in _SESSION_WORKERS if w.process.poll() is None]
    if paused:
        app.control.cancel_consumer("celery", destination=paused, reply=True, timeout=10)
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    workers = OwnWorkers(broker_url, database_url)
    try:
        yield workers
    finally:
        app.conf.task_always_eager = previous
        workers.stop_all()
        purge_broker()
        if paused:
            app.control.add_consumer("celery", destination=paused, reply=True, timeout=10)


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
