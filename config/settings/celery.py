"""Celery topic settings. The default broker needs no server (kombu's filesystem
transport under var/), yet a real `celery worker` process consumes it; production
and CI set CELERY_BROKER_URL=redis://..."""
import os
from pathlib import Path

from celery.schedules import crontab

_var = Path(os.environ.get("QMS_VAR_DIR", Path(__file__).resolve().parent.parent.parent / "var"))
_queue = _var / "celery-queue"
for _sub in ("out", "processed"):
    (_queue / _sub).mkdir(parents=True, exist_ok=True)

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "out"),
        "data_folder_out": str(_queue / "out"),
        "processed_folder": str(_queue / "processed"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None  # results are stored as records in the database
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "").lower() in {"1", "true", "yes"}
CELERY_TASK_EAGER_PROPAGATES = True

# --- Jobs lost with a worker (kill -9, the OOM killer, a lost machine) -------------------------
# A message is acknowledged only after its job has finished (acks-late). When the pool process
# running a job dies, the worker puts the message back at once (reject on worker lost). When the
# whole worker dies, Redis hands the unacknowledged message to another worker once the visibility
# timeout has passed; the hard time limit keeps every job shorter than that, so a message is
# never handed out a second time while its job is still running. Size both to the longest job
# (an evidence bundle of thousands of records, the nightly verification). Flow jobs (CeleryJob)
# do not wait that long: the beat job below re-queues them after QMS_JOB_REQUEUE_AFTER_SECONDS.
# Every job is idempotent, so a second delivery finds its work done and does nothing.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
QMS_CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("QMS_CELERY_VISIBILITY_TIMEOUT", "1800"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("QMS_CELERY_TASK_TIME_LIMIT", QMS_CELERY_VISIBILITY_TIMEOUT - 60))
if not 0 < CELERY_TASK_TIME_LIMIT < QMS_CELERY_VISIBILITY_TIMEOUT:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"QMS_CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT} s) must be positive and shorter than "
        f"QMS_CELERY_VISIBILITY_TIMEOUT ({QMS_CELERY_VISIBILITY_TIMEOUT} s), or a running job is delivered twice")
# Half a minute before the hard limit the job gets SoftTimeLimitExceeded, so it can record its failure
# (a flow job's task goes to ERROR, an evidence bundle to "failed") instead of being killed silently.
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT - 30)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": QMS_CELERY_VISIBILITY_TIMEOUT}
# A flow job still SCHEDULED this long after it was queued (or last re-queued) while no worker
# holds its process is re-queued by the beat job `workflows.jobs.requeue_stalled_jobs`.
QMS_JOB_REQUEUE_AFTER_SECONDS = int(os.environ.get("QMS_JOB_REQUEUE_AFTER_SECONDS", "600"))
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# WeasyPrint keeps font and layout caches; recycle workers to bound memory.
CELERY_WORKER_MAX_TASKS_PER_CHILD = int(os.environ.get("CELERY_WORKER_MAX_TASKS_PER_CHILD", "200"))
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    # fires viewflow's database-backed flow.Timer nodes
    "fire-workflow-timers": {"task": "workflows.tasks.fire_workflow_timers", "schedule": 60.0},
    # re-queues flow jobs lost with a worker (see QMS_JOB_REQUEUE_AFTER_SECONDS above)
    "requeue-stalled-jobs": {"task": "workflows.jobs.requeue_stalled_jobs",
                             "schedule": float(os.environ.get("QMS_JOB_REQUEUE_CHECK_SECONDS", "120"))},
    # P4: periodic reviews due within the lead time, daily at 06:00; overdue acknowledgements at 08:00
    "open-periodic-reviews": {"task": "procedures.documents.tasks.open_periodic_reviews",
                              "schedule": crontab(hour=6, minute=0)},
    "remind-overdue-acknowledgements": {"task": "procedures.documents.tasks.remind_overdue_acknowledgements",
                                        "schedule": crontab(hour=8, minute=0)},
}

# P2.7: the complaint and return analysis of the previous month(s), to the Market manager for signing.
# A crontab "minute hour day-of-month month day-of-week"; default 07:00 on the 1st of every month.
_analysis = os.environ.get("QMS_COMPLAINT_ANALYSIS_CRONTAB", "0 7 1 * *").split()
CELERY_BEAT_SCHEDULE["complaint-analysis"] = {
    "task": "procedures.complaints.tasks.compile_periodic_complaint_analysis",
    "schedule": crontab(minute=_analysis[0], hour=_analysis[1], day_of_month=_analysis[2],
                        month_of_year=_analysis[3], day_of_week=_analysis[4]),
}

# P5 / 制度 七: the customer requirement progress report of the previous month to the Market manager(s),
# 07:30 on the 1st of every month
CELERY_BEAT_SCHEDULE["requirement-progress-report"] = {
    "task": "procedures.requirements.tasks.send_progress_report",
    "schedule": crontab(minute=30, hour=7, day_of_month=1)}

# P3 / CA-5: one reminder per overdue corrective action (owner + Quality manager), daily at 08:15
CELERY_BEAT_SCHEDULE["remind-overdue-capa-actions"] = {"task": "procedures.capa.tasks.remind_overdue_capa_actions",
                                                       "schedule": crontab(hour=8, minute=15)}

# SIG-1: recompute every hash nightly at 02:30; the quality managers are e-mailed on failure
CELERY_BEAT_SCHEDULE["nightly-system-verification"] = {"task": "evidence.tasks.nightly_verification",
                                                       "schedule": crontab(hour=2, minute=30)}

# Inbox: reminders before due and escalations of overdue tasks, every 15 minutes
CELERY_BEAT_SCHEDULE["inbox-reminders-and-escalations"] = {
    "task": "inbox.tasks.send_reminders_and_escalations",
    "schedule": float(os.environ.get("QMS_ESCALATION_CHECK_SECONDS", "900")),
}

# Inbox: once a day, tell the Quality manager when next year's holidays are not in the company calendar
CELERY_BEAT_SCHEDULE["inbox-calendar-coverage"] = {"task": "inbox.tasks.warn_about_calendar_gaps",
                                                   "schedule": crontab(hour=7, minute=30)}

# Inbox: once a night, drop the drafts left on finished tasks (a draft saved as its step completed, or of a cancelled
# task; inbox.drafts.drop_drafts_of_finished_tasks)
CELERY_BEAT_SCHEDULE["inbox-finished-task-drafts"] = {"task": "inbox.tasks.drop_drafts_of_finished_tasks",
                                                      "schedule": crontab(hour=3, minute=10)}

# Audit anchoring: a signed checkpoint of the audit chain outside the database, hourly by default
# (QMS_CHECKPOINT_INTERVAL_SECONDS; skipped while nothing new happened; docs/AUDIT-ANCHORING.md)
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {"task": "evidence.tasks.make_audit_checkpoint",
                                            "schedule": float(os.environ.get("QMS_CHECKPOINT_INTERVAL_SECONDS", "3600"))}

# CA-7 / ISO 9001 9.3.2: the management-review input pack of the previous QMS_MANAGEMENT_REVIEW_MONTHS (6) full
# months, to the Quality manager for signing; a crontab, default 07:30 on 2 January and 2 July
_review = os.environ.get("QMS_MANAGEMENT_REVIEW_CRONTAB", "30 7 2 1,7 *").split()
CELERY_BEAT_SCHEDULE["management-review-pack"] = {
    "task": "procedures.management_review.tasks.compile_scheduled_management_review",
    "schedule": crontab(minute=_review[0], hour=_review[1], day_of_month=_review[2], month_of_year=_review[3],
                        day_of_week=_review[4]),
    "kwargs": {"months": int(os.environ.get("QMS_MANAGEMENT_REVIEW_MONTHS", "6"))},
}
