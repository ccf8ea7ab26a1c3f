"""Background tasks of the engine (Celery)."""
import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(Exception,),
    max_retries=3,
    retry_backoff=True,  # 1 s, 2 s, 4 s (+ jitter)
    retry_backoff_max=300,
    retry_jitter=True,
)
def render_record_version(self, version_id):
    """Render the PDF and the PDF/A-3b archive copy of one record version (idempotent:
    files that already exist are kept, so a retry or a duplicate delivery is harmless).
    Returns the ids of the version's RecordFile rows.

    A render lost with a killed worker is done again by the next delivery of the same
    message: at once when only the pool process died, after the broker's visibility
    timeout when the whole worker did (see config/settings/celery.py)."""
    from . import job_gate
    from .models import RecordVersion
    from .pdf import render_version

    if (self.request.delivery_info or {}).get("redelivered"):
        logger.warning("render_record_version: record version %s redelivered (its first worker was lost)",
                       version_id)
    version = RecordVersion.objects.select_related("record").filter(pk=version_id).first()
    if version is None:  # the version's transaction rolled back: nothing to render
        logger.warning("render_record_version: record version %s does not exist", version_id)
        return []
    job_gate.hold("render.started")  # tests/test_worker_kill.py kills the worker here
    return [f.pk for f in render_version(version)]


@shared_task(acks_late=True, ignore_result=True)
def fire_workflow_timers():
    """Fire viewflow's due flow.Timer tasks (scheduled every minute by Celery beat).
    Returns the number fired."""
    from viewflow.workflow.timers import fire_due_timers

    fired = fire_due_timers()
    if fired:
        logger.info("fired %d workflow timer(s)", fired)
    return fired
