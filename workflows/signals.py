"""Every task and process transition made by viewflow itself (create, assign,
start, complete, cancel, error) writes an audit entry in the same transaction.

A cancellation, an undo or a revival made inside `correcting(reason)` (an administrator's cancel, undo and
revive pages, workflows.cancel) carries its reason on every entry it writes (a cancelled or undone task is
CANCELED, a revived one REVIVED), and each record of a cancelled process gets a `process.cancelled` entry
with that reason, so the record page shows why (SIG-13)."""
import threading
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models.signals import post_init, post_save
from django.dispatch import receiver
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS, STATUS

from core import audit
from core.signals import connect_to_models
from core.context import acting_as_system, current_actor
from core.models import Record

TRACKED = {Task: ("status", "owner_id"), Process: ("status",)}

_cancellation = threading.local()


REASONED = (PROCESS.CANCELED, STATUS.REVIVED)  # PROCESS.CANCELED is also a task's cancelled (or undone) status


@contextmanager
def correcting(reason, *, task=None):
    """Within: the cancellations, undos and revivals being made are audited with `reason` as the acting
    person's — with `task`, that task's alone (what follows from it, e.g. a revived step's next steps cancelling
    others, stays the engine's); without, every one (a process cancelled with all its tasks)."""
    previous = getattr(_cancellation, "reason", None), getattr(_cancellation, "task_pk", None)
    _cancellation.reason, _cancellation.task_pk = reason, (task.pk if task is not None else None)
    try:
        yield
    finally:
        _cancellation.reason, _cancellation.task_pk = previous


def _reason_for(instance, status):
    if status not in REASONED:
        return ""
    target = getattr(_cancellation, "task_pk", None)
    if target is not None and not (isinstance(instance, Task) and instance.pk == target):
        return ""
    return getattr(_cancellation, "reason", None) or ""


def _remember(instance, fields):
    instance._audit_before = {f: getattr(instance, f) for f in fields}


def remember_loaded_state(sender, instance, **kwargs):
    for model, fields in TRACKED.items():
        if isinstance(instance, model):
            _remember(instance, fields)


def _log(*args, **kwargs):
    if connection.in_atomic_block:
        audit.log(*args, **kwargs)
    else:
        with transaction.atomic():
            audit.log(*args, **kwargs)


@receiver(post_save)
def audit_transition(sender, instance, created, **kwargs):
    if not isinstance(instance, (Task, Process)):
        return
    fields = TRACKED[Task] if isinstance(instance, Task) else TRACKED[Process]
    before = getattr(instance, "_audit_before", {})
    after = {f: getattr(instance, f) for f in fields}
    actor = current_actor()
    if _automatic(instance, after):
        # viewflow's own steps (Function, If, Switch, Join, a job, End) and the process ending: done by the
        # system, not by the person whose action set them off (core.audit.log notes that person)
        with acting_as_system(None):
            return _audit(instance, created, before, after, fields, None)
    return _audit(instance, created, before, after, fields, actor)


HUMAN_TYPES = ("HUMAN", "HUMAN_START")


def _automatic(instance, after):
    if _reason_for(instance, after.get("status")):  # an administrator's cancel, undo or revive page (correcting()): theirs
        return False
    if isinstance(instance, Task):
        return instance.flow_task_type not in HUMAN_TYPES
    return after.get("status") == PROCESS.DONE


def _audit(instance, created, before, after, fields, actor):
    if isinstance(instance, Task):
        step = instance.flow_task.name if instance.flow_task else ""
        process_id = instance.process_id
        if created:
            _log("task.created", instance, actor=actor, process_id=process_id,
                 new={"step": step, "status": instance.status, "owner": instance.owner_id,
                      "queue": instance.owner_permission})
        else:
            old = {k: v for k, v in before.items() if v != after[k]}
            if old:
                action = "task.assigned" if "owner_id" in old and instance.owner_id else (
                    "task.released" if "owner_id" in old else "task.status_changed")
                _log(action, instance, actor=actor, process_id=process_id,
                     old={"step": step, **old}, new={"step": step, **{k: after[k] for k in old}},
                     reason=_reason_for(instance, after["status"]))
    else:
        if created:
            _log("process.created", instance, actor=actor, process_id=instance.pk,
                 new={"flow": str(instance.flow_class.__name__ if instance.flow_class else ""),
                      "status": instance.status})
        elif before.get("status") != after["status"]:
            reason = _reason_for(instance, after["status"])
            _log("process.status_changed", instance, actor=actor, process_id=instance.pk,
                 old={"status": before.get("status")}, new={"status": after["status"]}, reason=reason)
            if after["status"] == PROCESS.CANCELED:
                for record in Record.objects.filter(process_id=instance.pk).order_by("id"):
                    _log("process.cancelled", record, actor=actor, record=record, process_id=instance.pk,
                         new={"process": instance.pk, "status": after["status"]}, reason=reason)
    _remember(instance, fields)


def connect():
    """The loaded state of tasks and processes, for the audit entry of their next save (workflows.apps)."""
    connect_to_models(post_init, remember_loaded_state, tuple(TRACKED), "workflows.remember_loaded_state")
