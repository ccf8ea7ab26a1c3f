"""Jobs lost with a killed worker are done again, exactly once.

A flow job (CeleryJob) runs in one transaction under the process lock, so a worker killed
in the middle leaves nothing of it committed; the beat job `requeue_stalled_jobs` queues it
again once it has waited past the deadline and no worker holds its process. A PDF render
queued outside a flow comes back by redelivery of its unacknowledged message: at once when
only the pool process died (reject on worker lost), after the visibility timeout when the
whole worker did. A second delivery of a job already done does nothing.

The tests marked `worker` kill real worker processes (PostgreSQL + Redis); the job is held
at a named point by core/job_gate.py (a .hold file), so the kill lands mid-job every time.
"""
import datetime
import hashlib

import pytest
import time_machine
from django.test import TestCase
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.models import AuditEntry, RecordFile
from p1_driver import open_task, review_all, sign, start, start_and_review_committed
from workflows import actions
from workflows.jobs import requeue_stalled_jobs
from procedures.order_review.models import order_review_of
from procedures.order_review.flows import OrderReviewFlow
from worker import restore_unacked, wait_until

WAIT = 180  # seconds: a worker start plus two WeasyPrint renders on a busy two-core machine


def job_task(process):
    return Task.objects.get(process=process, flow_task=OrderReviewFlow.render_record)


def audit(action, task=None):
    entries = AuditEntry.objects.filter(action=action)
    if task is not None:
        entries = entries.filter(object_type="viewflow.task", object_id=str(task.pk))
    return list(entries.order_by("seq"))


def current_version(process):
    record = order_review_of(process).record
    record.refresh_from_db()
    return record.get_version()


def rendered_entries(version):
    return [e for e in AuditEntry.objects.filter(action="record.rendered", record=version.record)
            if e.new_values["version"] == version.version]


def completions(task):
    return [e for e in audit("task.status_changed", task) if e.new_values.get("status") == STATUS.DONE]


def approve(process, people):
    """The Market manager approves the reviewed order; the render job is queued when this commits."""
    task = open_task(process, "approve")
    actions.claim_task(task, actor=people["market_mgr"])
    task.refresh_from_db()
    node = task.flow_task
    form = node.make_form(data={"conclusion": "同意接单 Accepted"}, api=True, activation=node.activation_class(task),
                          user=people["market_mgr"])
    actions.complete_step(task, actor=people["market_mgr"], form=form, signature_input=sign("approved"))


def assert_rendered_once(version):
    files = RecordFile.objects.filter(record_version=version)
    assert sorted(files.values_list("kind", flat=True)) == ["pdf", "pdfa"]
    for file in files:
        assert hashlib.sha256(file.file.read()).hexdigest() == file.sha256
    assert sorted(e.new_values["kind"] for e in rendered_entries(version)) == ["pdf", "pdfa"]


# --- the beat job, without a worker (SQLite or PostgreSQL, Celery eager) ---------------------------


@pytest.fixture
def scheduled_job(people, order_data):
    """An approved order whose render job is queued but whose message never ran (lost)."""
    process = start(people["market"], order_data())
    review_all(process, people)
    approve(process, people)  # on-commit callbacks are not run here: the job stays SCHEDULED
    task = job_task(process)
    assert task.status == STATUS.SCHEDULED
    return process, task


@pytest.mark.django_db
def test_a_job_waiting_less_than_the_deadline_is_left_alone(scheduled_job, settings):
    _, task = scheduled_job
    settings.QMS_JOB_REQUEUE_AFTER_SECONDS = 600
    with time_machine.travel(task.created + datetime.timedelta(seconds=599), tick=False), \
            TestCase.captureOnCommitCallbacks() as queued:
        assert requeue_stalled_jobs() == 0
    assert queued == []
    assert audit("task.requeued") == []


@pytest.mark.django_db
def test_a_job_left_scheduled_past_the_deadline_is_requeued_once_per_deadline_and_audited(scheduled_job, settings):
    process, task = scheduled_job
    settings.QMS_JOB_REQUEUE_AFTER_SECONDS = 600
    later = task.created + datetime.timedelta(minutes=11)
    with time_machine.travel(later, tick=False):
        with TestCase.captureOnCommitCallbacks() as queued:
            assert requeue_stalled_jobs() == 1
        assert len(queued) == 1
        [entry] = audit("task.requeued", task)
        assert entry.process_id == process.pk
        assert entry.new_values == {"step": "render_record", "status": STATUS.SCHEDULED, "requeued": 1}
        # the next beat run, within the deadline of the re-queue: nothing more
        with TestCase.captureOnCommitCallbacks() as again:
            assert requeue_stalled_jobs() == 0
        assert again == [] and len(audit("task.requeued", task)) == 1
    with time_machine.travel(later + datetime.timedelta(minutes=11), tick=False), \
            TestCase.captureOnCommitCallbacks() as third:
        assert requeue_stalled_jobs() == 1
    assert [e.new_values["requeued"] for e in audit("task.requeued", task)] == [1, 2]
    assert len(third) == 1


@pytest.mark.django_db
def test_a_requeued_job_runs_and_a_done_job_is_not_requeued_again(scheduled_job):
    process, task = scheduled_job
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11), tick=False):
        with TestCase.captureOnCommitCallbacks(execute=True):  # the re-queued message runs (eagerly)
            assert requeue_stalled_jobs() == 1
        task.refresh_from_db()
        assert task.status == STATUS.DONE
        version = current_version(process)
        assert_rendered_once(version)
        assert len(completions(task)) == 1
        with TestCase.captureOnCommitCallbacks() as queued:
            assert requeue_stalled_jobs(after_seconds=0) == 0
        assert queued == []


@pytest.mark.django_db
def test_a_job_left_started_by_a_lost_worker_is_run_again_once(scheduled_job):
    process, task = scheduled_job
    started = timezone.now()
    Task.objects.filter(pk=task.pk).update(status=STATUS.STARTED, started=started)
    with time_machine.travel(started + datetime.timedelta(seconds=599), tick=False):
        assert requeue_stalled_jobs() == 0  # the deadline counts from when it started
    with time_machine.travel(started + datetime.timedelta(minutes=11), tick=False):
        with TestCase.captureOnCommitCallbacks(execute=True):
            assert requeue_stalled_jobs() == 1
    task.refresh_from_db()
    assert task.status == STATUS.DONE
    assert_rendered_once(current_version(process))
    assert len(completions(task)) == 1
    [entry] = audit("task.requeued", task)
    assert entry.old_values["status"] == STATUS.STARTED


# --- real workers killed with kill -9 (PostgreSQL + Redis) ------------------------------------------


class Gate:
    """Holds a worker's job at a named point (core/job_gate.py)."""

    def __init__(self, folder):
        self.folder = folder
        folder.mkdir()

    def hold(self, point):
        (self.folder / f"{point}.hold").touch()

    def release(self, point):
        (self.folder / f"{point}.hold").unlink(missing_ok=True)

    def wait_reached(self, point, worker):
        wait_until(lambda: (self.folder / f"{point}.reached").exists(), timeout=WAIT,
                   message=lambda: f"the job did not reach {point}; worker log:\n{worker.log_tail()}")

    def release_all(self):
        for hold in self.folder.glob("*.hold"):
            hold.unlink()


@pytest.fixture
def gate(own_workers, tmp_path):  # after own_workers: the held jobs are released before the workers stop
    gate = Gate(tmp_path / "gate")
    yield gate
    gate.release_all()


def start_order_process(people, order_data):
    """A P1 process reviewed by every department, each step committed (the worker runs the jobs)."""
    return start_and_review_committed(people, order_data)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_flow_job_killed_with_its_worker_is_requeued_and_completes_exactly_once(
        own_workers, gate, people, order_data):
    gate.hold("flow_job.done")  # both PDFs rendered, the job's transaction not yet committed
    first = own_workers.start(QMS_TEST_JOB_GATE=str(gate.folder))
    process = start_order_process(people, order_data)
    approve(process, people)
    gate.wait_reached("flow_job.done", first)
    task = job_task(process)
    version = current_version(process)

    # While the worker runs the job it holds the process: the beat job leaves the job alone.
    assert requeue_stalled_jobs(after_seconds=0) == 0
    assert audit("task.requeued") == []

    own_workers.kill(first)
    gate.release("flow_job.done")
    task.refresh_from_db()
    assert task.status == STATUS.SCHEDULED  # nothing of the killed run was committed
    assert not RecordFile.objects.filter(record_version=version).exists()
    assert rendered_entries(version) == []
    assert [e.new_values["status"] for e in audit("task.status_changed", task)] == [STATUS.SCHEDULED]

    second = own_workers.start()
    # What Celery beat runs every 2 minutes; repeated only until PostgreSQL has noticed that the
    # killed worker's connection is gone and let go of its lock on the process.
    wait_until(lambda: requeue_stalled_jobs(after_seconds=0) == 1, timeout=30)
    wait_until(lambda: Task.objects.get(pk=task.pk).status == STATUS.DONE, timeout=WAIT,
               message=lambda: f"the re-queued job did not finish; worker log:\n{second.log_tail()}")

    def assert_done_exactly_once():
        assert_rendered_once(version)
        assert len(completions(task)) == 1
        [started] = [e for e in audit("task.status_changed", task) if e.new_values.get("status") == STATUS.STARTED]
        assert started.old_values["status"] == STATUS.SCHEDULED
        [requeued] = audit("task.requeued", task)
        assert requeued.process_id == process.pk
        [join] = Task.objects.filter(process=process, flow_task=OrderReviewFlow.finished)
        assert list(join.previous.values_list("pk", flat=True)).count(task.pk) == 1
        assert Task.objects.filter(previous=task).count() == 1  # the flow went on once

    assert_done_exactly_once()

    # The killed worker's own message comes back (as after the visibility timeout): it does nothing.
    assert restore_unacked() >= 1
    job_id = task.external_task_id
    wait_until(lambda: second.log().count(f"[{job_id}] succeeded") == 2, timeout=WAIT,
               message=lambda: f"the redelivered message did not run; worker log:\n{second.log_tail()}")
    assert f"flow job task {task.pk}: message redelivered" in second.log()
    assert_done_exactly_once()
    assert requeue_stalled_jobs(after_seconds=0) == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_render_lost_with_its_worker_is_redelivered_to_the_next_worker_and_done_once(
        own_workers, gate, people, order_data):
    from forms.tasks import render_record_version

    gate.hold("render.started")
    first = own_workers.start(QMS_TEST_JOB_GATE=str(gate.folder))
    process = start_order_process(people, order_data)
    version = current_version(process)
    render_record_version.delay(version.pk)
    gate.wait_reached("render.started", first)

    own_workers.kill(first)
    gate.release("render.started")
    assert not RecordFile.objects.filter(record_version=version).exists()

    second = own_workers.start()
    assert restore_unacked() >= 1  # Redis does this once the visibility timeout has passed
    wait_until(lambda: RecordFile.objects.filter(record_version=version).count() == 2, timeout=WAIT,
               message=lambda: f"the redelivered render did not finish; worker log:\n{second.log_tail()}")
    assert_rendered_once(version)
    assert f"record version {version.pk} redelivered" in second.log()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_render_whose_pool_process_is_killed_is_put_back_at_once_and_done_once(
        own_workers, gate, people, order_data):
    from forms.tasks import render_record_version

    gate.hold("render.started")
    worker = own_workers.start(QMS_TEST_JOB_GATE=str(gate.folder))
    process = start_order_process(people, order_data)
    version = current_version(process)
    render_record_version.delay(version.pk)
    gate.wait_reached("render.started", worker)

    own_workers.kill_pool(worker)  # the worker itself lives on and starts a new pool process
    gate.release("render.started")
    # no visibility timeout, no beat job: the lost message is rejected back to the queue and runs again
    wait_until(lambda: RecordFile.objects.filter(record_version=version).count() == 2, timeout=WAIT,
               message=lambda: f"the render was not run again; worker log:\n{worker.log_tail()}")
    assert_rendered_once(version)
    assert "WorkerLostError" in worker.log()
