"""Hooks into viewflow and the signatures: a due date for every new human task, a
notification when a task gets an owner, when a process one started finishes, and
when one's process or record is rejected. Connected in InboxConfig.ready()."""
from django.db import connection, transaction
from django.db.models.signals import post_init, post_save
from django.urls import NoReverseMatch, reverse
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import PROCESS

from core import audit
from core.signals import connect_to_models
from core.context import current_actor
from core.models import Meaning, Signature

from .deadlines import deadline_for
from .escalation import FINISHED, describe, load_urls, task_link
from .models import NotificationKind, TaskDeadline
from .notify import notify
from .rows import process_subjects


def _process_subject(process):
    return process_subjects([process])[process.pk]


lazy_process_subject = lazy(_process_subject, str)  # rendered in the recipient's language


ASSIGNED_TITLE = _("New task for you: %(task)s – %(subject)s (%(process)s)")
ASSIGNED_BODY = _("%(task)s for %(subject)s (%(process)s) is assigned to you, due on %(due)s.")
COMPLETED_TITLE = _("Completed: %(subject)s (%(process)s)")
COMPLETED_BODY = _("%(subject)s (%(process)s) that you started has been completed.")
REJECTED_TITLE = _("Rejected: %(record)s")
REJECTED_BODY = _("%(signer)s rejected %(record)s %(title)s. Reason: %(reason)s")


def _atomic(func):
    if connection.in_atomic_block:
        return func()
    with transaction.atomic():
        return func()


def remember(sender, instance, **kwargs):
    if isinstance(instance, Task):
        instance._inbox_before = (instance.owner_id, instance.status)
    elif isinstance(instance, Process):
        instance._inbox_before = instance.status


def task_saved(sender, instance, created, **kwargs):
    if not isinstance(instance, Task):
        return
    owner_before = None if created else getattr(instance, "_inbox_before", (None, None))[0]
    instance._inbox_before = (instance.owner_id, instance.status)
    if instance.flow_task_type != "HUMAN":  # jobs, gateways, joins, start tasks: no due date, no message
        return

    def work():
        deadline = None
        if created:
            deadline = deadline_for(instance)
            if deadline is not None:
                # the task is new: no deadline row yet. Written with the step's other new rows at its end (one
                # INSERT for a fan-out's tasks); nothing reads it before then but this task's own notice below
                audit.insert_later(deadline)  # kept on the task meanwhile (task.deadline, as a OneToOne sets it)
        if instance.owner_id and instance.owner_id != owner_before and instance.status not in FINISHED:
            actor = current_actor()
            if actor is None or actor.pk != instance.owner_id:  # claiming it oneself needs no message
                if deadline is None:
                    deadline = Task.deadline.related.get_cached_value(instance, default=None) or \
                        TaskDeadline.objects.filter(task_id=instance.pk).first()
                params = {**describe(instance), "due": deadline.due_date.isoformat() if deadline else "-"}
                notify(instance.owner, NotificationKind.ASSIGNED, ASSIGNED_TITLE, ASSIGNED_BODY, params,
                       link=task_link(instance), task=instance)

    # a task that finishes needs nothing here: its deadline is retired by the scheduler, in bulk
    # (inbox.escalation.send_reminders_and_escalations), not by every step that finishes a task
    if created or (instance.owner_id != owner_before and instance.status not in FINISHED):
        _atomic(work)


def starter_of(process_id):
    """The person who started a process (the owner of its human start task), or None."""
    task = (Task.objects.filter(process_id=process_id, flow_task_type="HUMAN_START", owner__isnull=False)
            .select_related("owner").order_by("pk").first())
    return task.owner if task else None


def process_link(process):
    load_urls()
    try:
        return process.flow_class.instance.reverse("process_detail", args=[process.pk])
    except (NoReverseMatch, AttributeError):
        return ""


def process_saved(sender, instance, created, **kwargs):
    if not isinstance(instance, Process):
        return
    before = None if created else getattr(instance, "_inbox_before", None)
    instance._inbox_before = instance.status
    if instance.status != PROCESS.DONE or before == PROCESS.DONE or instance.flow_class is None:
        return

    def work():
        starter = starter_of(instance.pk)
        if starter is not None:
            params = {"process": instance.flow_class.process_title, "number": instance.pk,
                      "subject": lazy_process_subject(instance)}
            notify(starter, NotificationKind.PROCESS_COMPLETED, COMPLETED_TITLE, COMPLETED_BODY, params,
                   link=process_link(instance), process=instance)

    _atomic(work)


def signature_saved(sender, instance, created, **kwargs):
    """A rejection tells the process starter and the author of the rejected version."""
    if not created or instance.meaning != Meaning.REJECTED:
        return
    version = instance.record_version
    record = version.record
    people = {version.created_by_id: version.created_by, record.created_by_id: record.created_by}
    process = record.process if record.process_id else None
    if process is not None:
        starter = starter_of(process.pk)
        if starter is not None:
            people[starter.pk] = starter
    people.pop(instance.signer_id, None)
    params = {"record": record.number, "title": record.title, "signer": instance.printed_name,
              "reason": instance.reason or "-"}
    load_urls()
    link = reverse("qms:records:detail", args=[record.number])

    def work():
        for person in people.values():
            notify(person, NotificationKind.REJECTED, REJECTED_TITLE, REJECTED_BODY, params, link=link,
                   process=process)

    _atomic(work)


def connect():
    connect_to_models(post_init, remember, (Task, Process), "inbox.remember")
    post_save.connect(task_saved, dispatch_uid="inbox.task_saved")
    post_save.connect(process_saved, dispatch_uid="inbox.process_saved")
    post_save.connect(signature_saved, sender=Signature, dispatch_uid="inbox.signature_saved")
