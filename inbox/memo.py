"""A memo for one engine call: values the inbox reads once however many tasks the call
creates (a fan-out creates one task per item): the step targets, the company calendar, a
person's notification preferences, the subject of the process.

The memo is kept on the process object the call works on (the engine reads the process
afresh for every call, under the flow lock), and it is only ever used inside the
transaction it was made in: it holds the atomic blocks and savepoints open when it was made
and is dropped as soon as one of them is no longer open (committed or rolled back). Any
save of a row in this Python process drops every memo too, except those of the rows a new
task itself writes (the task, its deadline, its notification), so the tasks of one fan-out
share it while nothing they depend on can have changed in between; so does a delete of a
step target, calendar day or notification preference. Outside a transaction nothing is
memoised."""
from django.db import connection

_generation = [0]  # bumped by every save / delete of a row (but the new tasks' own rows): connect() below

ATTRIBUTE = "_inbox_memo"


def process_of(task):
    """The process object `task` already holds (no query), or None."""
    return task._state.fields_cache.get("process") if task is not None else None


def _still_open(memo):
    blocks, sids = connection.atomic_blocks, connection.savepoint_ids
    return (len(blocks) >= len(memo["blocks"]) and all(a is b for a, b in zip(memo["blocks"], blocks))
            and sids[:len(memo["sids"])] == memo["sids"])


def call_memo(process):
    """The memo (a dict) of the engine call working on `process` (a Process object), or a
    new empty dict that nobody keeps when there is no process or no transaction."""
    if process is None or not connection.in_atomic_block:
        return {}
    memo = getattr(process, ATTRIBUTE, None)
    if memo is None or memo["generation"] != _generation[0] or not _still_open(memo):
        memo = {"generation": _generation[0], "blocks": list(connection.atomic_blocks),
                "sids": list(connection.savepoint_ids), "values": {}}
        setattr(process, ATTRIBUTE, memo)
    return memo["values"]


def forget(sender, **kwargs):
    if sender not in _KEEP:
        _generation[0] += 1


_KEEP = set()  # the models whose saves keep the memos: what creating a task writes


def connect():
    from django.db.models.signals import post_delete, post_save
    from viewflow.workflow.models import Task

    from .models import CalendarDay, Notification, NotificationPreference, StepTarget, TaskDeadline

    _KEEP.update({Task, TaskDeadline, Notification})
    post_save.connect(forget, dispatch_uid="inbox.memo.saved")
    # Deletes: only of the memoised tables' rows (a receiver for every model would cost every
    # queryset delete a SELECT: Django deletes fast only models without delete receivers).
    for model in (StepTarget, CalendarDay, NotificationPreference):
        post_delete.connect(forget, sender=model, dispatch_uid=f"inbox.memo.deleted.{model.__name__}")
