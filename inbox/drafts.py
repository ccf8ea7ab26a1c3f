"""Drafts: a task's form saved without completing the step.

A draft is the form's fields as the API would send them (formsets as nested lists of
items), kept per task and person (`inbox.models.TaskDraft`). Saving one never
validates, never runs the step's action and never asks for a signature; it changes
no record and no process. Uploaded files are not kept in a draft. Only the person
the task is assigned to saves, reads and discards it; it is deleted when the step
is completed (`workflows.actions.complete_step`).

A draft is not a record: its audit entry (`task.draft_saved`) names the fields saved,
never their values."""
from django import forms
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core import audit
from core.registry import register_action_texts
from core.errors import InvalidInput, NotPermitted, WrongState

from .models import TaskDraft

OPEN = (STATUS.ASSIGNED, STATUS.STARTED)
MAX_DRAFT_CHARS = 200_000


def draft_error(task, user):
    """None when `user` may keep a draft of `task` now, else the domain error (403 / 409)."""
    if task.owner_id != user.pk:
        return NotPermitted(_("Only the person this task is assigned to keeps a draft of it."))
    if task.status in (STATUS.DONE, STATUS.CANCELED) or task.finished:
        return WrongState(_("This task is finished: its draft can no longer be changed."), current_state=task.status)
    if task.status not in OPEN:
        return WrongState(_("Claim this task before saving a draft."), current_state=task.status)
    if not hasattr(task.flow_task, "form_class"):
        return WrongState(_("This task has no form to save."), current_state=task.status)
    return None


def _check(task, user):
    error = draft_error(task, user)
    if error:
        raise error


def clean_data(form_class, data):
    """Keep only the form's fields and its formsets' item fields; file fields are dropped."""
    if not isinstance(data, dict):
        raise InvalidInput(_("A draft is an object of field values."), field_errors={"data": [_("Expected an object.")]})
    probe = form_class()
    kept = {}
    for name, field in probe.fields.items():
        if name in data and not _is_file(field):
            kept[name] = _jsonable(data[name])
    for name, formset_class in form_class.formsets.items():
        items = data.get(name)
        if not isinstance(items, list):
            continue
        item_fields = {n: f for n, f in formset_class.form().fields.items() if n != "DELETE" and not _is_file(f)}
        kept[name] = [{k: _jsonable(v) for k, v in item.items() if k in item_fields}
                      for item in items if isinstance(item, dict)]
    if len(str(kept)) > MAX_DRAFT_CHARS:
        raise InvalidInput(_("This draft is too large to keep."), field_errors={"data": [_("Too large.")]})
    return kept


def _is_file(field):
    return isinstance(field, forms.FileField)


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def data_from_post(form_class, post):
    """A browser POST → the draft data (as the API would send it): each field as its
    widget reads it, formsets as lists of the lines that have something in them."""
    probe = form_class()
    data = {}
    for name, field in probe.fields.items():
        if _is_file(field):
            continue
        value = field.widget.value_from_datadict(post, {}, name)  # a checkbox reads True / False
        if value is not None and value != "" and value != []:
            data[name] = value
    for name, formset_class in form_class.formsets.items():
        try:
            total = min(int(post.get(f"{name}-TOTAL_FORMS", 0)), 1000)
        except ValueError:
            total = 0
        item_fields = formset_class.form().fields
        items = []
        for index in range(total):
            prefix = f"{name}-{index}-"
            if post.get(prefix + "DELETE"):
                continue
            item = {}
            for field_name, field in item_fields.items():
                if field_name == "DELETE" or _is_file(field):
                    continue
                value = field.widget.value_from_datadict(post, {}, prefix + field_name)
                if value not in (None, "", [], False):
                    item[field_name] = value
            if item:
                items.append(item)
        data[name] = items
    return data


def save_draft(task, *, actor, data):
    """Keep `data` as `actor`'s draft of `task` (replacing an earlier one). Audited;
    changes nothing else."""
    node = task.flow_task
    with transaction.atomic():
        _lock_task_row(task)
        _check(task, actor)
        kept = clean_data(node.form_class, data)
        draft, created = TaskDraft.objects.update_or_create(task=task, user=actor, defaults={"data": kept})
        audit.log("task.draft_saved", task, actor=actor, process_id=task.process_id,
                  new={"step": node.name, "fields": sorted(kept)})
    return draft


def _lock_task_row(task):
    """Re-read the task under its row lock: a step completing it at the same moment either saw this draft
    (and deletes it) or is done before this reads it (inbox.queues._TaskRowLock)."""
    task.refresh_from_db(from_queryset=type(task)._base_manager.select_for_update(of=("self",)))


def load_draft(task, user):
    """`user`'s draft of `task`, or None. A draft is its owner's only."""
    if user is None or not user.is_authenticated:
        return None
    return TaskDraft.objects.filter(task=task, user=user).first()


def discard_draft(task, *, actor):
    """Delete `actor`'s draft of `task`; True when there was one."""
    with transaction.atomic():
        task.refresh_from_db()
        _check(task, actor)
        deleted, _count = TaskDraft.objects.filter(task=task, user=actor).delete()
        if deleted:
            audit.log("task.draft_discarded", task, actor=actor, process_id=task.process_id,
                      new={"step": task.flow_task.name})
    return bool(deleted)


def drafts_completed(task):
    """Called by complete_step() inside its transaction: the step is done, its drafts go (no statement
    when the task lock's re-read found none: inbox.queues._TaskRowLock)."""
    if getattr(task, "_qms_has_drafts", True):
        TaskDraft.objects.filter(task=task).delete()


FINISHED = (STATUS.DONE, STATUS.CANCELED)

# how the audit trail names these entries, in the reader's language
register_action_texts({
    "task.draft_saved": gettext_lazy("saved a draft of the step"),
    "task.draft_discarded": gettext_lazy("discarded the draft of the step"),
    "task.drafts_dropped": gettext_lazy("dropped %(drafts)s draft(s) left on the finished step"),
})


def drop_drafts_of_finished_tasks(batch=200):
    """Drafts left on a finished task, dropped (audited per task, by the system); returns how many.

    A completed step deletes its task's drafts in its own transaction. Two kinds can stay behind: a draft saved
    in the instant the step completed (on PostgreSQL, committed after the completing statement began and before
    it had the task's row lock: that statement's check of drafts did not see it), and a draft of a task that was
    cancelled. Neither is ever shown or used again; the nightly job (inbox.tasks) removes them."""
    dropped = 0
    while True:
        task_ids = list(TaskDraft.objects.filter(task__status__in=FINISHED).order_by("task_id")
                        .values_list("task_id", flat=True).distinct()[:batch])
        if not task_ids:
            return dropped
        with audit.atomic():
            tasks = Task.objects.filter(pk__in=task_ids, status__in=FINISHED).order_by("pk")
            for task in tasks.select_for_update(of=("self",)):
                count, _detail = TaskDraft.objects.filter(task=task).delete()
                dropped += count
                audit.log("task.drafts_dropped", task, process_id=task.process_id,
                          new={"step": task.flow_task.name if task.flow_task else "", "status": task.status,
                               "drafts": count})


def _as_bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def prefill(form, data):
    """Put a draft's values into an unbound step form (fields and formset lines)."""
    for name, field in form.fields.items():
        if name not in data:
            continue
        value = data[name]
        if isinstance(field, forms.BooleanField):
            value = _as_bool(value)
        form.initial[name] = value
    for name, formset in list(form.nested.items()):
        items = data.get(name)
        if not isinstance(items, list) or formset.is_bound:
            continue
        replacement = formset.__class__(prefix=formset.prefix, initial=items or None)
        replacement.min_num, replacement.validate_min = formset.min_num, formset.validate_min
        form.nested[name] = replacement
    return form
