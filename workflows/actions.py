"""Every state change of a human task, for the browser and the API alike: start a process at a
StartStep, claim a task from a queue, release it, complete it (validate the form and the
signature, run the step's action, advance the flow) — each under the process lock, in one
transaction, audited. Who may do what is the node's rule (workflows.steps.Step.refusal)."""
from dataclasses import dataclass
from typing import Optional

from django.utils.translation import gettext as _
from viewflow.workflow.status import STATUS

from core import audit, esign
from core.context import acting_as
from core.errors import InvalidInput, NotPermitted, WrongState
from inbox import drafts
from inbox.delegation import DELEGATION_KEYS, acting_for
from inbox.queues import task_lock

from .models import SAVED_BY_START

QUEUE = "queue"  # Step.release_target(): back to the task's queue


@dataclass
class SignatureInput:
    password: str = ""
    meaning: str = ""
    reason: str = ""
    username: Optional[str] = None
    require_username: bool = False


class _RequestStub:
    """viewflow's start() reads request.user only."""

    def __init__(self, user):
        self.user = user


class StepContext:
    """What a step action receives: the validated data, who acts, and `sign()`."""

    def __init__(self, node, activation, actor, data, signature_input):
        self.node = node
        self.activation = activation
        self.process = activation.process
        self.task = activation.task
        self.actor = actor
        self.data = data
        self.signature_input = signature_input

    @property
    def meaning(self):
        return self.signature_input.meaning if self.signature_input else None

    @property
    def reason(self):
        return self.signature_input.reason if self.signature_input else ""

    @property
    def on_behalf_of(self):
        """The absent person the actor works for on this task (inbox.delegation), or None."""
        if not hasattr(self, "_on_behalf_of"):
            self._on_behalf_of = acting_for(self.task, self.actor) if self.task.pk else None
        return self._on_behalf_of

    def sign(self, version, role=None):
        """The actor's signature of `version` with the meaning and reason they gave; given a list of versions
        (one decision recorded in several records), their signatures, written together."""
        if self.signature_input is None:
            raise RuntimeError(f"step {self.node.name} signs but was not given a signature")
        many = isinstance(version, (list, tuple))
        signatures = esign.apply_signatures(
            version if many else [version],
            signer=self.actor, meaning=self.signature_input.meaning, reason=self.signature_input.reason,
            role=role or self.node.sign_role, task=self.task if self.task.pk else None, step=self.node.name,
            on_behalf_of=self.on_behalf_of,
        )
        return signatures if many else signatures[0]


def _check_signature(node, signature_input, actor):
    if not node.signs:
        return None
    if signature_input is None:
        raise InvalidInput(_("This step needs your electronic signature."),
                           field_errors={"signature": [_("Required.")]})
    esign.validate_signature_input(signature_input.meaning, signature_input.reason, node.meanings)
    # Counted and audited in its own transaction: a wrong password is recorded even
    # though the step is refused.
    esign.verify_signer(actor, signature_input.password, username=signature_input.username,
                        require_username=signature_input.require_username)
    return signature_input


def _validated(node, form):
    if not form.is_valid():
        raise InvalidInput(_("Please correct the errors below."), field_errors=form.error_dict())
    return form.cleaned_data


def task_state_error(task, actor):
    """None when `actor` may complete `task` now, else the domain error saying why."""
    if task.status == STATUS.DONE:
        return WrongState(_("This task has already been completed."), current_state=task.status)
    if task.status == STATUS.CANCELED:
        return WrongState(_("This task was cancelled."), current_state=task.status)
    if task.status == STATUS.NEW:
        return WrongState(_("Claim this task before completing it."), current_state=task.status)
    if task.owner_id != actor.pk:
        return NotPermitted(_("This task is assigned to someone else."))
    if task.status not in (STATUS.ASSIGNED, STATUS.STARTED):
        return WrongState(_("This task cannot be completed in state %(state)s.") % {"state": task.status},
                          current_state=task.status)
    return None


def _refusal(node, actor, task, *, before_lock=False, completing=False):
    reason = node.refusal(actor, task, before_lock=before_lock, completing=completing)
    return NotPermitted(reason) if reason else None


def complete_step(task, *, actor, form, signature_input=None):
    """Complete a human task: validate the form and the signature, run the step's
    action and advance the flow, all in one transaction under the flow lock.

    Preconditions: the task is assigned to `actor` and not yet done; otherwise
    WrongState (409) or NotPermitted (403). Invalid data raises InvalidInput with
    field errors and changes nothing; a wrong password raises SignatureRefused
    after the failure has been counted and audited."""
    node = task.flow_task
    error = task_state_error(task, actor) or _refusal(node, actor, task, before_lock=True)
    if error:
        raise error
    data = _validated(node, form)
    signature_input = _check_signature(node, signature_input, actor)
    with acting_as(actor), task_lock(task, drafts=True), audit.atomic(savepoint=False):  # re-read under the lock
        error = task_state_error(task, actor) or _refusal(node, actor, task, completing=True)  # a replay that raced us
        if error:
            raise error
        activation = node.activation_class(task)
        activation.start(_RequestStub(actor))
        context = StepContext(node, activation, actor, data, signature_input)
        node._action(context)
        on_behalf_of = context.on_behalf_of
        audit.log("task.completed", task, actor=actor, process_id=task.process_id, on_behalf_of=on_behalf_of,
                  new={"step": node.name, "signed": bool(signature_input),
                       "meaning": signature_input.meaning if signature_input else None,
                       **({"on_behalf_of": on_behalf_of.username} if on_behalf_of else {})})
        activation.execute()
        drafts.drafts_completed(task)  # the step is done: its saved drafts go (inbox/drafts.py)
    return task


def start_process(node, *, actor, form, signature_input=None):
    """Start a process at `node` (a StartStep) with the validated form. Returns the process."""
    activation = node.activation_class.create(node, None, None)
    if not node.can_execute(actor, activation.task):
        raise NotPermitted(_("You may not start this procedure."))
    data = _validated(node, form)
    signature_input = _check_signature(node, signature_input, actor)
    with acting_as(actor), audit.atomic():
        activation.start(_RequestStub(actor))
        activation.process.save()
        activation.task.process = activation.process
        setattr(activation.process, SAVED_BY_START, True)  # the artifact the step attaches is saved by execute()
        try:
            node._action(StepContext(node, activation, actor, data, signature_input))
        finally:
            delattr(activation.process, SAVED_BY_START)
        activation.execute()
        audit.log("process.started", activation.process, actor=actor, process_id=activation.process.pk,
                  new={"flow": node.flow_class.__name__, "start": node.name})
    return activation.process


def claim_task(task, *, actor):
    """Take a task from a department queue into one's inbox (Step.refusal decides who may)."""
    node = task.flow_task
    with acting_as(actor), task_lock(task), audit.atomic(savepoint=False):  # the task re-read under the lock
        if task.status != STATUS.NEW or task.owner_id:
            if task.owner_id == actor.pk and task.status == STATUS.ASSIGNED:
                return task
            raise WrongState(_("This task has already been claimed or completed."), current_state=task.status)
        reason = node.refusal(actor, task) if hasattr(node, "refusal") else _("This task cannot be claimed.")
        if reason:
            raise NotPermitted(reason)
        node.activation_class(task).assign(actor)
    return task


def release_task(task, *, actor):
    """Give back a claimed task: a queue task to its queue, a task bound to a person to that
    person (e.g. a substitute hands it back). A person's own bound task has nowhere to go
    and is refused: their department manager reassigns it (inbox.delegation)."""
    node = task.flow_task
    with acting_as(actor), task_lock(task), audit.atomic(savepoint=False):  # the task re-read under the lock
        if task.status != STATUS.ASSIGNED:
            raise WrongState(_("Only a claimed task can be released."), current_state=task.status)
        if not (task.owner_id == actor.pk or node.flow_class.instance.has_manage_permission(actor)):
            raise NotPermitted(_("You may not release this task."))
        target = node.release_target(task) if hasattr(node, "release_target") else None
        if target is None:
            raise WrongState(_("This task is assigned to you personally and has no queue to return to; "
                               "ask your department manager to reassign it."), current_state=task.status)
        activation = node.activation_class(task)
        task.data = {k: v for k, v in (task.data or {}).items() if k not in DELEGATION_KEYS}
        if target == QUEUE:
            activation.unassign()
        else:
            activation.reassign(user=target)
    return task
