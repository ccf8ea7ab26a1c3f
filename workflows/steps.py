"""The engine's human nodes on viewflow's open package.

- `Step`: a human task (flow.View) with a StepForm, an action and an optional electronic
  signature; who may claim, work on and release it is one rule (`Step.refusal`,
  `Step.release_target`). The browser view and the REST API both end in
  workflows.actions.complete_step(), so they validate and behave identically.
- `StartStep`: the same for the node that starts a process (workflows.actions.start_process()).
- `FanOut`: a parallel split that starts one task per item (e.g. one receipt per department).
- `CeleryJob` (workflows/jobs.py): a job node run by a Celery worker.
"""
from contextlib import contextmanager

from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.activation import Activation
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.start import StartViewActivation
from viewflow.workflow.nodes.view import ViewActivation
from viewflow.workflow.signals import flow_started, task_started
from viewflow.workflow.status import STATUS

from accounts.models import User
from core import audit
from django.utils.translation import gettext as _
from inbox.delegation import audit_routing, holds_permission, route_new_task

from . import gateways
from .links import link_later
from .actions import QUEUE
from .views import StartStepView, StepView


ASSIGNEE = "assignee"  # task.data: the person the flow (or a manager's reassignment) named


def assignee_of(task):
    data = task.data if isinstance(task.data, dict) else {}
    return data.get(ASSIGNEE)


def delegated_to(task):
    """The substitute a bound task was routed to during its assignee's absence, or None."""
    data = task.data if isinstance(task.data, dict) else {}
    return data.get("delegated_to") if data.get("on_behalf_of") else None


class StepMixin:
    """Configuration shared by Step and StartStep."""

    def configure(self, form_class, action, meanings=(), sign_role="", forbid=None, due=None, *,
                  forbid_rechecked=False):
        """`forbid`: the step's own rule (a sentence saying why a user may not act, or None). `forbid_rechecked`:
        the step's action checks that same rule again on the rows it locks, so a completion asks the rule only
        before the password, not a second time under the flow lock."""
        self.form_class = form_class
        self._action = action
        self.meanings = tuple(meanings)
        self.sign_role = sign_role
        self._forbid = forbid
        self._forbid_rechecked = forbid_rechecked
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

    def forbidden_reason(self, user, task, *, before_lock=False, completing=False):
        """A sentence saying why `user` may not act on `task` (e.g. self-approval), or None. `before_lock`: the
        first check of a completion, before the signature's password (actions.complete_step); a rule that reads
        rows the flow lock re-reads may leave them to the check made again under the lock. `completing`: that
        check under the lock, just before the step's action runs (which may check the rule itself:
        `forbid_rechecked`)."""
        if self._forbid is not None and not (completing and self._forbid_rechecked):
            return self._forbid(task, user)
        return None

    def make_form(self, *, data=None, files=None, activation=None, user=None, api=False):
        kwargs = {"activation": activation, "user": user}
        if api:
            return self.form_class.from_api(data or {}, files, **kwargs)
        return self.form_class(data, files, **kwargs)


class StepActivation(ViewActivation):
    """viewflow's activation of a human task; the new task's link to the task before it is written with the
    step's other links at the end of its transaction (workflows.links). A split's branches are written together
    by the split (workflows.gateways.SplitActivation.create_next): their tasks in one INSERT."""

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        # viewflow 2.4's ViewActivation.create, but for the link (link_later instead of task.previous.add) and, in a
        # split's branch, the INSERT left to the split
        task = flow_task.flow_class.task_class(process=prev_activation.process, flow_task=flow_task, token=token)
        task.data = data if data is not None else {}
        task.seed = seed
        activation = cls(task)
        owner_permission = flow_task.calc_owner_permission(activation)
        if owner_permission:
            task.owner_permission = owner_permission
            task.owner_permission_obj = flow_task.calc_owner_permission_obj(activation)
        owner = flow_task.calc_owner(activation)
        if owner:
            task.owner = owner
            task.status = STATUS.ASSIGNED
        together = gateways.written_together(prev_activation)
        if together is not None and not flow_task._boundary_events:  # (a boundary event is armed on a saved task)
            together.append(activation)  # the split writes it with its siblings, then calls written()
            return activation
        task.save()
        activation.written(prev_activation.task)
        return activation

    @property
    def after_written(self):
        """What waits for the task's key (a split's branch is written after its node made it: Step._create)."""
        return self.__dict__.setdefault("_qms_after_written", [])

    def written(self, previous):
        """What follows the new task's INSERT: its link to the task before it, the node's on-create hook, and
        (a split's branch) what waited for the task's key."""
        link_later(self.task, previous)
        if self.flow_task._on_create is not None:
            self.flow_task._on_create(self)
        for then in self.__dict__.pop("_qms_after_written", ()):
            then(self.task)


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
    activation_class = StepActivation
    undo_view_class = None

    def __init__(self, form_class, action, *, meanings=(), sign_role="", forbid=None, forbid_rechecked=False, due=None,
                 delegable=True, **kwargs):
        super().__init__(StepView.as_view(), **kwargs)
        self.configure(form_class, action, meanings, sign_role, forbid, due, forbid_rechecked=forbid_rechecked)
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
            if activation.task.pk is None:  # a split's branch, written with its siblings: audited once it is
                activation.after_written.append(audit_routing)
            else:
                audit_routing(activation.task)
        return activation

    # --- the one rule ------------------------------------------------------------------------

    def bound_person(self, task):
        """The pk of the person `task` belongs to by name, or None for a queue task."""
        if task.owner_permission:
            return None
        return assignee_of(task)

    def role_refusal(self, user, task, *, before_lock=False, completing=False):
        """None when `user` may do this kind of work (active, holds the task's queue role,
        not barred by the step's rule), else a sentence saying why not."""
        if user is None or not user.is_authenticated or not user.is_active:
            return _("Only an active, signed-in user may work on a task.")
        if task.owner_permission and not holds_permission(user, task.owner_permission):
            return _("This task is not in one of your queues.")
        return self.forbidden_reason(user, task, before_lock=before_lock, completing=completing)

    def refusal(self, user, task, *, before_lock=False, completing=False):
        """None when `user` may hold and work on this very task, else a sentence saying why not."""
        bound = self.bound_person(task)
        if (bound is not None or not task.owner_permission) and (
                user is None or user.pk not in (bound, delegated_to(task))):
            return _("This task is assigned personally to someone else.")
        return self.role_refusal(user, task, before_lock=before_lock, completing=completing)

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


class StartStepActivation(StartViewActivation):
    """viewflow's start, in the caller's transaction: `workflows.actions.start_process` runs the whole start in
    one (`audit.atomic()`), where any error rolls everything back. viewflow's own `execute()` wraps the process's
    save in a savepoint and the rest in a second one with a `SELECT … FOR UPDATE NOWAIT` of the process — a row this
    transaction has just inserted, which no other transaction can see before the commit: five statements of a
    P1 start's 33 that protect nothing here."""

    @Activation.status.super()
    def execute(self):
        if not audit.in_atomic():
            raise RuntimeError("a start step runs inside workflows.actions.start_process's transaction")
        task_started.send(sender=self.flow_class, process=self.process, task=self.task)
        self.process.save()
        # viewflow's lock scope without its lock: what a node defers until the flow lock is released
        # (lock.after_lock_released) still waits for the end of the start
        with lock.lock_scope(_inserted_by_this_transaction, self.flow_class, self.process.pk):
            self.complete()
            flow_started.send(sender=self.flow_class, process=self.process, task=self.task)
            self.activate_next()


@contextmanager
def _inserted_by_this_transaction(flow_class, process_pk):
    """The flow lock of a process this transaction has inserted: nothing to take."""
    yield


class StartStep(StepMixin, flow.Start):
    activation_class = StartStepActivation
    undo_view_class = None
    def __init__(self, form_class, action, *, meanings=(), sign_role="", **kwargs):
        super().__init__(StartStepView.as_view(), **kwargs)
        self.configure(form_class, action, meanings, sign_role)


# --- actions ------------------------------------------------------------------------


# --- fan-out split ------------------------------------------------------------------------


class FanOutActivation(gateways.SplitActivation):
    """Written once, already done, like the Split (workflows.gateways); a data source that keys what it makes
    on the split task (a quorum round is the split task's id) asks `activation.saved_task()`, which writes
    the task first, as viewflow does."""

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


class FanOut(gateways.Split):
    """A parallel split that can start one task of a node per item of
    `data_source(activation)`, each with `task.data = item` (e.g. one receipt task
    per department). viewflow's open Split documents data_source but ignores it."""

    activation_class = FanOutActivation

    def Next(self, node, case=None, data_source=None):
        self._activate_next.append((node, case, data_source))
        return self
