"""The real-worker infrastructure itself: a Celery worker process is started against the
test database and consumes messages from the broker. Runs when CELERY_BROKER_URL is redis."""
import uuid

import pytest
from django.db import connection

from config.celery import app
from worker import celery_worker_process, wait_until  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_answers_ping(celery_worker_process):  # noqa: F811
    replies = app.control.ping(destination=[celery_worker_process.nodename], timeout=5)
    assert replies == [{celery_worker_process.nodename: {"ok": "pong"}}]


def test_worker_uses_the_test_database(celery_worker_process):  # noqa: F811
    assert celery_worker_process.database_url.endswith("/" + connection.settings_dict["NAME"])
    assert connection.settings_dict["NAME"].startswith("test_")


def test_worker_consumes_a_task_from_the_broker(celery_worker_process):  # noqa: F811
    task_id = str(uuid.uuid4())
    app.send_task("celery.accumulate", args=(1, 2), task_id=task_id, queue="celery")
    wait_until(
        lambda: f"celery.accumulate[{task_id}] succeeded" in celery_worker_process.log(),
        timeout=30,
        message=lambda: f"the worker did not run celery.accumulate[{task_id}]:\n{celery_worker_process.log_tail()}",
    )


def test_the_worker_settles_when_it_starts(celery_worker_process):  # noqa: F811
    """config.celery.settle_worker ran in the worker (a signal handler's error would only be logged)."""
    wait_until(lambda: "settled:" in celery_worker_process.log(), timeout=30,
               message=lambda: f"the worker did not settle:\n{celery_worker_process.log_tail()}")
    assert "Signal handler" not in celery_worker_process.log()
