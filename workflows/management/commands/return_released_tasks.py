"""Give back tasks released to nobody before the one claim/release rule existed.

Before that rule a task the flow had assigned to a person without a queue, once
released, waited with no owner and no queue: visible to everyone. Each such task goes
back to the person who released it (read from the audit trail), audited. A dry run
unless --apply is given."""
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.models import User
from core import audit
from core.models import AuditEntry
from core.registry import flows
from inbox.queues import flow_lock
from workflows.steps import ASSIGNEE, Step


def orphaned_tasks():
    return (Task.objects.filter(flow_task_type="HUMAN", status=STATUS.NEW, owner__isnull=True,
                                process__flow_class__in=flows())
            .filter(Q(owner_permission__isnull=True) | Q(owner_permission="")).order_by("pk"))


def last_releaser(task):
    entry = (AuditEntry.objects.filter(action="task.released", object_id=str(task.pk))
             .order_by("-seq").first())
    owner_id = (entry.old_values or {}).get("owner_id") if entry is not None else None
    return User.objects.filter(pk=owner_id).first() if owner_id else None


class Command(BaseCommand):
    help = "Return tasks released to nobody (no owner, no queue) to the person who released them."

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="act (default: only list what would change)")

    def handle(self, *args, apply=False, **options):
        returned = 0
        for task in orphaned_tasks():
            node = task.flow_task
            person = last_releaser(task)
            if person is None or not isinstance(node, Step):
                self.stdout.write(f"task {task.pk} ({node.name if node else '?'}): nobody to return it to; "
                                  "an administrator reassigns it")
                continue
            task.data = {**(task.data or {}), ASSIGNEE: (task.data or {}).get(ASSIGNEE) or person.pk}
            refusal = node.refusal(person, task) if person.is_active else "deactivated"
            if refusal:
                self.stdout.write(f"task {task.pk} ({node.name}): {person.username} may not take it back "
                                  f"({refusal}); an administrator reassigns it")
                continue
            self.stdout.write(f"task {task.pk} ({node.name}) → {person.username}")
            if not apply:
                continue
            with flow_lock(node.flow_class, task.process_id), transaction.atomic():
                task.save(update_fields=["data"])
                node.activation_class(task).assign(person)
                audit.log("task.returned", task, process_id=task.process_id,
                          reason="released to nobody before the claim rule; returned to the person who released it",
                          new={"step": node.name, "owner": person.username})
            returned += 1
        if not apply:
            self.stdout.write("dry run: nothing changed (use --apply)")
        else:
            self.stdout.write(f"{returned} task(s) returned")
