"""Drives any flow through the action functions (the ones views and API call)."""
from django.test import TestCase
from django.utils.datastructures import MultiValueDict
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflows import actions
from workflows.demo import DEMO_PASSWORD


def open_tasks(process, step):
    node = getattr(process.flow_class, step)
    return list(Task.objects.filter(process=process, flow_task=node)
                .exclude(status__in=[STATUS.DONE, STATUS.CANCELED]).order_by("pk"))


def start(flow_class, node_name, user, data, files=None, meaning=None):
    node = getattr(flow_class, node_name)
    form = node.make_form(data=data, files=MultiValueDict(files or {}), api=True, user=user)
    signature = actions.SignatureInput(password=DEMO_PASSWORD, meaning=meaning) if meaning else None
    with TestCase.captureOnCommitCallbacks(execute=True):
        return actions.start_process(node, actor=user, form=form, signature_input=signature)


def act(process, step, user, data=None, files=None, meaning=None, reason="", task=None):
    if task is None:
        candidates = [t for t in open_tasks(process, step)
                      if t.owner_id == user.pk or (t.owner_id is None and t.flow_task.can_assign(user, t))]
        assert candidates, f"{user} has no open {step} task in process {process.pk}"
        task = candidates[0]
    if task.status == STATUS.NEW:
        actions.claim_task(task, actor=user)
    task.refresh_from_db()
    node = task.flow_task
    form = node.make_form(data=data or {}, files=MultiValueDict(files or {}), api=True,
                          activation=node.activation_class(task), user=user)
    signature = actions.SignatureInput(password=DEMO_PASSWORD, meaning=meaning, reason=reason) if meaning else None
    with TestCase.captureOnCommitCallbacks(execute=True):
        return actions.complete_step(task, actor=user, form=form, signature_input=signature)
