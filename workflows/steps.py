"""Generic workflow building blocks on viewflow's open package.

- `Step`: a human task (flow.View) with a StepForm, an action and an optional
  electronic signature. The browser view and the REST API both end in
  `complete_step()`, so they validate and behave identically.
- `StartStep`: the same for the node that starts a process (`start_process()`).
- `CeleryJob` (workflows/jobs.py): a job node run by a Celery worker.
- `claim_task()` / `release_task()`: queue → inbox and back, audited.
"""
import logging
from dataclasses import dataclass
from typing import Optional

from django.db import transaction
from django.utils.translation import gettext as _
from viewflow import this
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.status import STATUS

from accounts.models import User
from core import audit, esign
from core.context import acting_as
from core.errors import InvalidInput, NotPermitted, WrongState
from inbox import drafts
from inbox.delegation import DELEGATION_KEYS, acting_for, audit_routing, holds_permission, route_new_task
from inbox.queues import flow_lock

logger = logging.getLogger(__name__)


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
        if self.signature_input is None:
            raise RuntimeError(f"step {self.node.name} signs but was not given a signature")
        return esign.apply_signature(
            version, signer=self.actor, meaning=self.signature_input.meaning, reason=self.signature_input.reason,
            role=role or self.node.sign_role, task=self.task if self.task.pk else None, step=self.node.name,
            on_behalf_of=self.on_behalf_of,
        )


ASSIGNEE = "assignee"  # task.data: the person the flow (or a manager's reassignment) named
QUEUE = "queue"  # release_target(): back to the task's queue


def assignee_of(task):
    data = task.data if isinstance(task.data, dict) else {}
    return data.get(ASSIGNEE)


def delegated_to(task):
    """The substitute a bound task was routed to during its assignee's absence, or None."""
    data = task.data if isinstance(task.data, dict) else {}
    return data.get("delegated_to") if data.get("on_behalf_of") else None


class StepMixin:
    """Configuration shared by Step and StartStep."""

    def configure(self, form_class, action, meanings=(), sign_role="", forbid=None, due=None):
        self.form_class = form_class
        self._action = action
        self.meanings = tuple(meanings)
        self.sign_role = sign_role
        self._forbid = forbid
        self._due = due

    def _resolve(self, instance):
        super()._resolve(instance)
        self._action = this.resolve(instance, self._action)
        self._forbid = this.resolve(instance, self._forbid)
        self._due = this.resolve(instance, self._due)

    def due_date_for(self, task):
        """The due date the step itself sets for `task` (e.g. a CAPA action's own due
        date), or None: then the configured target duration of the step applies."""
        return self._due(task) if self._due is not None else None

    @property
    def signs(self):
        return bool(self.meanings)

    def forbidden_reason(self, user, task):
        """A sentence saying why `user` may not act on `task` (e.g. self-approval), or None."""
        if self._forbid is not None:
            return self._forbid(task, user)
        return None

    def make_form(self, *, data=None, files=None, activation=None, user=None, api=False):
        kwargs = {"activation": activation, "user": user}
        if api:
            return self.form_class.from_api(data or {}, files, **kwargs)
        return self.form_class(data, files, **kwargs)


class Step(StepMixin, flow.View):
    """A human task. Who may claim, work on and release it is decided by one rule,
    `refusal()` and `release_target()` below, for every human node of every flow:

    - A task routed to a queue (`.Permission(...)`) may be claimed by whoever holds that
      department permission through a membership, unless the step's own rule forbids it
      (e.g. self-approval); they may work on it while they still hold it.
    - A task bound to a person (`.Assign(...)` without a queue, or a named quorum seat) may
      be held only by that person, or by the substitute it was routed to during their
      absence; a manager's reassignment binds it to the new person.
    - Releasing returns a queue task to its queue, and a bound task to the person it is
      bound to (when a substitute holds it); a person's own bound task cannot be released
      (a manager reassigns it). Nothing ever goes to "everyone".
    """

    # A signed step is never undone: the record keeps its versions and the flow
    # moves on by its own paths (SIG-6).
    undo_view_class = None

    def __init__(self, form_class, action, *, meanings=(), sign_role="", forbid=None, due=None, delegable=True,
                 **kwargs):
        from .views import StepView

        super().__init__(StepView.as_view(), **kwargs)
        self.configure(form_class, action, meanings, sign_role, forbid, due)
        # False for a personal step (e.g. read and acknowledge): never delegated or reassigned.
        self.delegable = delegable

    def calc_owner(self, activation):
        """The person the flow assigns the new task to (`.Assign(...)`) is recorded as its
        assignee; if they are absent, the task goes to their substitute before it is saved
        (inbox.delegation.route_new_task)."""
        owner = super().calc_owner(activation)
        if owner is not None:
            task = activation.task
            task.data = {**(task.data if isinstance(task.data, dict) else {}), ASSIGNEE: owner.pk}
            if self.delegable:
                owner = route_new_task(self, task, owner)
        return owner

    def _create(self, prev_activation, token, data=None, seed=None):
        activation = super()._create(prev_activation, token, data=data, seed=seed)
        if self.delegable:
            audit_routing(activation.task)
        return activation

    # --- the one rule ------------------------------------------------------------------------

    def bound_person(self, task):
        """The pk of the person `task` belongs to by name, or None for a queue task."""
        if task.owner_permission:
            return None
        return assignee_of(task)

    def role_refusal(self, user, task):
        """None when `user` may do this kind of work (active, holds the task's queue role,
        not barred by the step's rule), else a sentence saying why not."""
        if user is None or not user.is_authenticated or not user.is_active:
            return _("Only an active, signed-in user may work on a task.")
        if task.owner_permission and not holds_permission(user, task.owner_permission):
            return _("This task is not in one of your queues.")
        return self.forbidden_reason(user, task)

    def refusal(self, user, task):
        """None when `user` may hold and work on this very task, else a sentence saying why not."""
        bound = self.bound_person(task)
        if (bound is not None or not task.owner_permission) and (
                user is None or user.pk not in (bound, delegated_to(task))):
            return _("This task is assigned personally to someone else.")
        return self.role_refusal(user, task)

    def release_target(self, task):
        """Where releasing `task` sends it: QUEUE, the person it is bound to, or None when it
        cannot be released (a person's own bound task: a manager reassigns it)."""
        bound = self.bound_person(task)
        if bound is None:
            return QUEUE if task.owner_permission else None
        if bound != task.owner_id:
            return User.objects.filter(pk=bound, is_active=True).first()
        return None

    # viewflow asks these (its task pages, buttons and transitions): the same rule.
    def can_assign(self, user, task):
        return task.owner_id is None and task.status == STATUS.NEW and self.refusal(user, task) is None

    def can_execute(self, user, task):
        return user is not None and task.owner_id == user.pk and self.refusal(user, task) is None

    def can_unassign(self, user, task):
        """viewflow's release page puts a task back in its queue: offered only for queue tasks
        (bound tasks go back to their person through release_task())."""
        if task.owner_id is None or user is None or user.is_anonymous:
            return False
        if self.release_target(task) is not QUEUE:
            return False
        return task.owner_id == user.pk or self.flow_class.instance.has_manage_permission(user)


class StartStep(StepMixin, flow.Start):
    undo_view_class = None
    def __init__(self, form_class, action, *, meanings=(), sign_role="", **kwargs):
        from .views import StartStepView

        super().__init__(StartStepView.as_view(), **kwargs)
        self.configure(form_class, action, meanings, sign_role)


# --- actions ------------------------------------------------------------------------


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


def _refusal(node, actor, task):
    reason = node.refusal(actor, task)
    return NotPermitted(reason) if reason else None


def complete_step(task, *, actor, form, signature_input=None):
    """Complete a human task: validate the form and the signature, run the step's
    action and advance the flow, all in one transaction under the flow lock.

    Preconditions: the task is assigned to `actor` and not yet done; otherwise
    WrongState (409) or NotPermitted (403). Invalid data raises InvalidInput with
    field errors and changes nothing; a wrong password raises SignatureRefused
    after the failure has been counted and audited."""
    node = task.flow_task
    error = task_state_error(task, actor) or _refusal(node, actor, task)
    if error:
        raise error
    data = _validated(node, form)
    signature_input = _check_signature(node, signature_input, actor)
    flow_class = node.flow_class
    with acting_as(actor), flow_lock(flow_class, task.process_id), transaction.atomic():
        task.refresh_from_db()
        error = task_state_error(task, actor) or _refusal(node, actor, task)  # a replay that raced us
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
    with acting_as(actor), transaction.atomic():
        activation.start(_RequestStub(actor))
        activation.process.save()
        activation.task.process = activation.process
        node._action(StepContext(node, activation, actor, data, signature_input))
        activation.execute()
        audit.log("process.started", activation.process, actor=actor, process_id=activation.process.pk,
                  new={"flow": node.flow_class.__name__, "start": node.name})
    return activation.process


def claim_task(task, *, actor):
    """Take a task from a department queue into one's inbox (Step.refusal decides who may)."""
    node = task.flow_task
    with acting_as(actor), flow_lock(node.flow_class, task.process_id), transaction.atomic():
        task.refresh_from_db()
        if task.status != STATUS.NEW or task.owner_id:
            if task.owner_id == actor.pk and task.status == STATUS.ASSIGNED:
                return task
            raise WrongState(_("This task has already been claimed or completed."), current_state=task.status)
        reason = node.refusal(actor, task) if isinstance(node, Step) else _("This task cannot be claimed.")
        if reason:
            raise NotPermitted(reason)
        node.activation_class(task).assign(actor)
    return task


def release_task(task, *, actor):
    """Give back a claimed task: a queue task to its queue, a task bound to a person to that
    person (e.g. a substitute hands it back). A person's own bound task has nowhere to go
    and is refused: their department manager reassigns it (inbox.delegation)."""
    node = task.flow_task
    with acting_as(actor), flow_lock(node.flow_class, task.process_id), transaction.atomic():
        task.refresh_from_db()
        if task.status != STATUS.ASSIGNED:
            raise WrongState(_("Only a claimed task can be released."), current_state=task.status)
        if not (task.owner_id == actor.pk or node.flow_class.instance.has_manage_permission(actor)):
            raise NotPermitted(_("You may not release this task."))
        target = node.release_target(task) if isinstance(node, Step) else None
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


# --- fan-out split ------------------------------------------------------------------------


class FanOutActivation(SplitActivation):
    @Activation.status.super()
    def activate(self):
        for node, case, data_source in self.flow_task._branches:
            if case and not case(self):
                continue
            if data_source is None:
                self.next_tasks.append((node, None))
            else:
                self.next_tasks.extend((node, item) for item in data_source(self))
        if not self.next_tasks:
            raise FlowRuntimeError(f"No next task available for {self.flow_task.name}")


class FanOut(flow.Split):
    """A parallel split that can start one task of a node per item of
    `data_source(activation)`, each with `task.data = item` (e.g. one receipt task
    per department). viewflow's open Split documents data_source but ignores it."""

    activation_class = FanOutActivation

    def Next(self, node, case=None, data_source=None):
        self._activate_next.append((node, case, data_source))
        return self
