"""The Celery job node: a viewflow job (`AbstractJob`) that runs in a Celery worker.

It is queued after the transaction that activated it commits, and the worker runs
it under the flow's lock, recording a failure on the task (status ERROR with the
traceback) and in the audit trail.
"""
import logging

from celery import shared_task
from django.db import transaction
from viewflow import this
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.nodes import AbstractJob, AbstractJobActivation
from viewflow.workflow.status import STATUS

from core import audit

logger = logging.getLogger(__name__)



class CeleryJobActivation(AbstractJobActivation):
    @Activation.status.transition(source=STATUS.NEW, target=STATUS.SCHEDULED)
    def activate(self):
        self.task.save()
        task_pk, job_id = self.task.pk, self.task.external_task_id
        transaction.on_commit(lambda: run_flow_job.apply_async(args=[task_pk], task_id=job_id))


class CeleryJob(AbstractJob):
    """Runs `func(activation)` in a Celery worker, then continues the flow."""

    activation_class = CeleryJobActivation

    def __init__(self, func, **kwargs):
        super().__init__(**kwargs)
        self._func = func

    def _resolve(self, instance):
        super()._resolve(instance)
        self._func = this.resolve(instance, self._func)


@shared_task(name="workflows.steps.run_flow_job", acks_late=True, bind=True, max_retries=3)
def run_flow_job(self, task_pk):
    """Worker side of CeleryJob: lock the process, run the job, advance the flow."""
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
    task.refresh_from_db()
    if task.status not in (STATUS.SCHEDULED, STATUS.STARTED):
        return  # already done: a redelivered message
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
    activation.execute()

