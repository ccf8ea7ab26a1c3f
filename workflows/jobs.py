"""The Celery job node: a viewflow job (`AbstractJob`) that runs in a Celery worker.

It is queued after the transaction that activated it commits, and the worker runs
it under the flow's lock, recording a failure on the task (status ERROR with the
traceback) and in the audit trail.

Exactly once, even when a worker dies. The worker runs a job in ONE transaction under
the flow's lock (a row lock on the process): SCHEDULED → STARTED, the job function's
effects, STARTED → DONE, the next nodes and all their audit entries commit together or
not at all. A worker killed in the middle leaves the task SCHEDULED with nothing of the
job committed (PostgreSQL rolls back a dead connection's transaction and frees its
locks), so running the job again is safe; a second delivery of a job already done finds
it DONE and returns, and one arriving while the job runs waits for the lock (retries)
and then finds it DONE. Job functions keep their effects in that transaction or are
idempotent (the PDF renders are both: `render_version` skips a kind already stored). A
file written to storage by a killed run stays there, unreferenced.

A message lost with its worker comes back by itself after the broker's visibility
timeout (config/settings/celery.py); flow jobs do not wait that long:
`requeue_stalled_jobs` (Celery beat, every 2 minutes) re-queues a job still waiting
QMS_JOB_REQUEUE_AFTER_SECONDS after it was queued while no worker holds its process.
"""
import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from viewflow import this
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.flow import mixins as flow_mixins
from viewflow.workflow.flow import views as flow_views
from viewflow.workflow.models import Task
from viewflow.workflow.nodes import AbstractJob, AbstractJobActivation
from viewflow.workflow.status import STATUS

from core import audit, job_gate

logger = logging.getLogger(__name__)

WAITING = (STATUS.SCHEDULED, STATUS.STARTED)
REQUEUED = "_requeued"  # task.data key: {"count": n, "at": ISO time of the last re-queue}


class CeleryJobActivation(AbstractJobActivation):
    @Activation.status.transition(source=STATUS.NEW, target=STATUS.SCHEDULED)
    def activate(self):
        self.task.save()
        task_pk, job_id = self.task.pk, self.task.external_task_id
        transaction.on_commit(lambda: run_flow_job.apply_async(args=[task_pk], task_id=job_id))


class CeleryJob(flow_mixins.NodeDetailMixin, AbstractJob):
    """Runs `func(activation)` in a Celery worker, then continues the flow."""

    activation_class = CeleryJobActivation
    # The task pages every other node has (viewflow's flow nodes declare them; its AbstractJob does not):
    # the flow's task list and the neighbouring tasks' pages link each task to its "index" page.
    index_view_class = flow_views.IndexTaskView
    detail_view_class = flow_views.DetailTaskView

    def __init__(self, func, **kwargs):
        super().__init__(**kwargs)
        self._func = func

    def _resolve(self, instance):
        super()._resolve(instance)
        self._func = this.resolve(instance, self._func)


@shared_task(name="workflows.steps.run_flow_job", acks_late=True, bind=True, max_retries=3)
def run_flow_job(self, task_pk):
    """Worker side of CeleryJob: lock the process, run the job, advance the flow."""
    if (self.request.delivery_info or {}).get("redelivered"):
        logger.warning("flow job task %s: message redelivered (its first worker was lost)", task_pk)
    task = Task.objects.filter(pk=task_pk).first()
    if task is None:  # the activating transaction rolled back after all
        return
    node = task.flow_task
    try:
        with node.flow_class.lock(task.process_id):
            _run_job(task, node)
    except FlowLockFailed as exc:  # the process is busy (a user is completing a step): retry shortly
        raise self.retry(exc=exc, countdown=5)


def _run_job(task, node):
    """Run one job; the caller holds the flow lock, whose transaction makes this all-or-nothing."""
    task.refresh_from_db()
    if task.status not in WAITING:
        return  # already done: a redelivered message or a re-queued duplicate
    activation = node.activation_class(task)
    activation.start()
    try:
        with transaction.atomic():
            node._func(activation)
    except Exception as exc:  # recorded on the task; an operator revives it from the UI
        logger.exception("Job %s of process %s failed", node.name, task.process_id)
        activation.error(exc)
        audit.log("task.failed", task, process_id=task.process_id, new={"step": node.name, "error": str(exc)})
        return
    job_gate.hold("flow_job.done")  # tests/test_worker_kill.py kills the worker here
    activation.execute()


# --- jobs lost with their worker ---------------------------------------------------------------


def _last_queued(task):
    """When the job was last queued: scheduled (created), started, or re-queued."""
    requeued = parse_datetime(((task.data or {}).get(REQUEUED) or {}).get("at") or "")
    return max(moment for moment in (task.created, task.started, requeued) if moment is not None)


def stalled_jobs(*, now, after):
    """The CeleryJob tasks still SCHEDULED or STARTED `after` (a timedelta) since they were last queued."""
    cutoff = now - after
    tasks = Task.objects.filter(flow_task_type=CeleryJob.task_type, status__in=WAITING, created__lte=cutoff)
    return [task for task in tasks.order_by("pk")
            if isinstance(task.flow_task, CeleryJob) and _last_queued(task) <= cutoff]


def requeue_stalled_job(task, *, now, after):
    """Queue the job of `task` again when it is still waiting `after` since it was last queued
    and no worker holds its process (checked under the process lock; a running job holds it).
    Audited (`task.requeued`) and logged; returns whether it was re-queued. Safe to repeat:
    the re-queue time is kept on the task, and a job done meanwhile is not queued again."""
    node = task.flow_task
    try:
        with transaction.atomic():
            # NOWAIT: the lock is held by a worker running this job (or by someone completing a step)
            node.flow_class.process_class._default_manager.filter(pk=task.process_id) \
                .select_for_update(nowait=True).exists()
            task = Task.objects.select_for_update().get(pk=task.pk)
            if task.status not in WAITING or _last_queued(task) > now - after:
                return False
            since = _last_queued(task)
            count = ((task.data or {}).get(REQUEUED) or {}).get("count", 0) + 1
            task.data = {**(task.data or {}), REQUEUED: {"count": count, "at": now.isoformat()}}
            task.save(update_fields=["data"])
            audit.log("task.requeued", task, process_id=task.process_id,
                      old={"step": node.name, "status": task.status, "queued_at": since},
                      new={"step": node.name, "status": task.status, "requeued": count},
                      reason=f"still {task.status} {int((now - since).total_seconds())} s after it was queued, "
                             f"and no worker holds its process")
            task_pk, job_id = task.pk, task.external_task_id
            transaction.on_commit(lambda: run_flow_job.apply_async(args=[task_pk], task_id=job_id))
    except OperationalError as exc:  # the process is locked: the job is running, or a step is being completed
        logger.info("flow job task %s: process %s is busy, not re-queued (%s)", task.pk, task.process_id, exc)
        return False
    logger.warning("flow job task %s (%s of process %s) re-queued (%d) after %s: %s since %s",
                   task.pk, node.name, task.process_id, count, after, task.status, since.isoformat())
    return True


@shared_task(name="workflows.jobs.requeue_stalled_jobs", ignore_result=True)
def requeue_stalled_jobs(after_seconds=None):
    """Celery beat: re-queue the flow jobs lost with a worker (waiting longer than
    QMS_JOB_REQUEUE_AFTER_SECONDS, default 600). Returns how many were re-queued."""
    after = datetime.timedelta(
        seconds=settings.QMS_JOB_REQUEUE_AFTER_SECONDS if after_seconds is None else after_seconds)
    now = timezone.now()
    return sum(requeue_stalled_job(task, now=now, after=after) for task in stalled_jobs(now=now, after=after))
