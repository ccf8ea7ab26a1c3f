"""viewflow's If, Switch, Split and Join gateways, with only the statements that are of use (issue 15.4).

- Savepoints. viewflow evaluates a gateway's condition (and a join's completion) inside a savepoint so
  that, when the gateway was reached from a background trigger (a job, a timer:
  `propagate_exception=False`), a failure can be rolled back alone and recorded on the gateway task, the
  process left recoverable. When the gateway is reached from a person's step (the default,
  `propagate_exception=True`) the error goes up to that step, whose whole transaction rolls back: the
  savepoint only costs two statements per gateway on every step. These gateways take it only in the
  first case.
- One write per gateway task. viewflow inserts an If/Switch/Split task as NEW, then updates it to DONE a
  moment later in the same step. From a person's step these insert it once, already DONE (and then link
  it to the task before it); from a background trigger, where an error must be kept on a saved task,
  they insert it first as viewflow does. A split's data source that needs the task's id before that
  (a quorum round is keyed on it) asks `activation.saved_task()`, which writes it then.
- A Timer (an event, not a gateway, but written the same way) is inserted once, already scheduled, without
  a savepoint from a person's step.
- A join inserts its task already STARTED (viewflow inserts it NEW and updates it at once); from a person's step,
  a join that its first arrival already completes (a round of one seat, a branch that was the last one open) is
  inserted once, already DONE, when it completes: until the join runs (viewflow runs joins after the other
  activations of the pass) the task waits unwritten on the process object, and another arrival of the same
  pass joins that same activation (`_pending_joins`); a join that does not complete then is written STARTED
  when it activates, so that the arrivals of later steps find it. Per arrival it
  reads the open join task and the arriving branch's still-active tasks in one statement, and its incoming
  tasks once, only when the join task was already there (a join created by this arrival has the arriving
  task alone): viewflow looks the join task up, then reads both in `is_done` and again in `complete`, in
  the same transaction, under the flow lock, where neither changes. What the lookup read holds only until
  a task is saved: viewflow runs a join after the other activations of the same pass, which may add or
  finish tasks of the branch, and the join then reads again, as viewflow does (`task_saves`).

Behaviour is otherwise viewflow's own (tests/test_gateways.py)."""
import threading
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.timezone import now
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.context import context
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.models import Task
from viewflow.workflow.nodes.if_gate import IfActivation as ViewflowIfActivation
from viewflow.workflow.nodes.join import JoinActivation as ViewflowJoinActivation
from viewflow.workflow.nodes.split import SplitActivation as ViewflowSplitActivation
from viewflow.workflow.nodes.switch import SwitchActivation as ViewflowSwitchActivation
from viewflow.workflow.nodes.timer import TimerActivation as ViewflowTimerActivation
from viewflow.workflow.signals import task_finished
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from .links import link_later


def _savepoint():
    """A savepoint when an error is kept on the task (background trigger), none when it propagates."""
    return not context.propagate_exception


class _InsertOnce:
    """A task written once, when its activation has settled it, from a person's step (see the module's
    docstring). A plain mixin (no transitions: viewflow looks a transition's definition up along the MRO)."""

    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        if not context.propagate_exception:  # an error would be kept on the task: it must exist from the start
            return super().create(flow_task, prev_activation, token, data=data, seed=seed)
        task = flow_task.flow_class.task_class(process=prev_activation.process, flow_task=flow_task, token=token)
        task.data = data if data is not None else {}
        task.seed = seed
        activation = cls(task)
        activation._qms_previous = prev_activation.task
        return activation

    def _save_once(self):
        """Save the task (its INSERT when it was not written yet) and link it to the task before it."""
        self.task.save()
        previous = self.__dict__.get("_qms_previous")
        if previous is not None and not self.__dict__.get("_qms_linked"):
            link_later(self.task, previous)
            self._qms_linked = True

    def saved_task(self):
        """The task, written now (as viewflow would have written it) if it was not yet: for what needs its
        id before the activation settles it (a FanOut data source keying a quorum round on the split task)."""
        if self.task.pk is None:
            self._save_once()
        return self.task

    # viewflow keeps activations in sets, hashed by their task; a task not yet written has no key: such an
    # activation is itself for its whole life (it is the only one of its task)
    def __hash__(self):
        return id(self) if "_qms_previous" in self.__dict__ else super().__hash__()

    def __eq__(self, other):
        return self is other if "_qms_previous" in self.__dict__ else super().__eq__(other)


class InsertOnceMixin(_InsertOnce, Activation):
    """If, Switch and Split: the task is written when it completes, already done."""

    @Activation.status.super()
    def complete(self):
        self.task.finished = now()
        self._save_once()
        task_finished.send(sender=self.flow_class, process=self.process, task=self.task)


class IfActivation(InsertOnceMixin, ViewflowIfActivation):
    @Activation.status.super()
    def activate(self):
        with self.exception_guard(), transaction.atomic(savepoint=_savepoint()):
            self._condition_result = self.flow_task._condition(self)


class SwitchActivation(InsertOnceMixin, ViewflowSwitchActivation):
    @Activation.status.super()
    def activate(self):
        with self.exception_guard(), transaction.atomic(savepoint=_savepoint()):
            for node, cond in self.flow_task._branches:
                if cond:
                    if cond(self):
                        self.next_task = node
                        break
                else:
                    self.next_task = node
            if not self.next_task:
                raise FlowRuntimeError("No next task available for {}".format(self.flow_task.name))


class SplitActivation(InsertOnceMixin, ViewflowSplitActivation):
    @Activation.status.super()
    def create_next(self):
        """viewflow's create_next (the same tokens, the branches in the same order), but from a person's step the
        branches' new human tasks are written in one INSERT: workflows.steps.StepActivation leaves its task to
        this split (`written_together`); then, task by task in branch order, what the task's own save() would have
        set off (post_save: its audit entry, its deadline, its notice) and its link. A fan-out of N tasks: one
        statement where it took N. Nothing between their creation and this INSERT reads them: viewflow activates
        the branches only once this method has returned them."""
        token_source = Token.split_token_source(self.task.token, self.task.pk)
        joins = [(node, data) for node, data in self.next_tasks if isinstance(node, flow.Join)]
        together = self._qms_written_together = [] if context.propagate_exception else None
        try:
            activations = [node._create(prev_activation=self, token=next(token_source), data=data)
                           for node, data in self.next_tasks if not isinstance(node, flow.Join)]
        finally:
            del self._qms_written_together
        if together:
            _write_together(together, previous=self.task)
        # a join last, as viewflow orders it, and after the tasks above are written: its lookup reads the branches
        return activations + [node._create(prev_activation=self, token=next(token_source), data=data)
                              for node, data in joins]


def written_together(prev_activation):
    """The list a split's branch appends its new task's activation to (the split writes them together), or None."""
    return prev_activation.__dict__.get("_qms_written_together")


def _write_together(activations, *, previous):
    tasks = [activation.task for activation in activations]
    model = type(tasks[0])
    for task in tasks:
        if task.flow_task and not task.flow_task_type:  # viewflow's Task.save() sets it
            task.flow_task_type = task.flow_task.task_type
    if len(tasks) > 1 and connection.features.can_return_rows_from_bulk_insert:
        model._default_manager.bulk_create(tasks)  # the keys come back (PostgreSQL, SQLite >= 3.35: RETURNING)
        for activation in activations:
            post_save.send(sender=model, instance=activation.task, created=True, update_fields=None, raw=False,
                           using=activation.task._state.db)
            activation.written(previous)
    else:
        for activation in activations:
            activation.task.save()
            activation.written(previous)


_saves = threading.local()


@receiver(post_save)
def _count_task_saves(sender, instance, **kwargs):
    if isinstance(instance, Task):
        _saves.count = getattr(_saves, "count", 0) + 1


def task_saves():
    """How many times a task was saved in this thread so far (a join's lookup is good until the next one)."""
    return getattr(_saves, "count", 0)


class _Rows(list):
    """Rows already read, answering what viewflow asks of the queryset it would have built (exists, iteration)."""

    def exists(self):
        return bool(self)


def _pending_joins(process):
    """{join node: its activation} for the joins created in this pass and not written yet (see the docstring)."""
    return process.__dict__.setdefault("_qms_pending_joins", {})


class JoinActivation(ViewflowJoinActivation):
    @classmethod
    def create(cls, flow_task, prev_activation, token, data=None, seed=None):
        """viewflow's lookup of the open join task, which also reads the still-active tasks of the arriving
        branch in the same statement when the branch's token prefix is known before the join task is (the
        arriving token is a split token, as every branch's is): one statement where viewflow takes three
        (the lookup, the join's incoming tasks, the branch's active tasks). The incoming tasks of a join
        created by this arrival are the arriving task alone."""
        task_class = flow_task.flow_class.task_class
        arriving = prev_activation.task
        pending = _pending_joins(prev_activation.process).get(flow_task)
        if pending is not None:  # created by an earlier arrival of this pass, not written yet: linked when it is
            pending._qms_arrivals.append(arriving)
            return pending
        arriving_token = arriving.token
        prefix = None
        if arriving_token.is_split_token():  # a join's token is the base of its branches': never equal to one
            prefix = arriving_token.get_common_split_prefix(arriving_token.get_base_split_token(), arriving.pk)
        lookup = Q(flow_task=flow_task, status__in=[STATUS.NEW, STATUS.STARTED])
        if prefix is not None:
            lookup |= Q(token__startswith=prefix) & ~Q(status__in=[STATUS.DONE, STATUS.CANCELED, STATUS.REVIVED])
        rows = list(task_class._default_manager.filter(lookup, process=prev_activation.process)
                    .order_by("-created"))
        tasks = [t for t in rows if t.flow_task == flow_task and t.status in (STATUS.NEW, STATUS.STARTED)]
        if len(tasks) > 1:
            raise FlowRuntimeError("More than one join instance for process found")
        created = not tasks
        if tasks:
            task = tasks[0]
            # the arriving pass's process object, not one read lazily for this task: every task the pass creates
            # after this join then shares it, and a join further on finds what this pass left pending on it
            task.process = prev_activation.process
        else:
            if token.is_split_token():
                token = token.get_base_split_token()
            # inserted as viewflow's activate() would leave it a moment later
            task = task_class(process=prev_activation.process, flow_task=flow_task, token=token,
                              status=STATUS.STARTED, started=now())
            task.data = data if data is not None else {}
            task.seed = seed
        if created and context.propagate_exception:  # written when it activates (STARTED) or completes (DONE)
            activation = cls(task)
            activation._qms_arrivals = [arriving]
            activation._qms_unkeyed = True
            _pending_joins(prev_activation.process)[flow_task] = activation
        else:
            if created:
                task.save()
            task.previous.add(arriving)
            activation = cls(task)
        # what this statement told, good for as long as no task is saved: viewflow runs a join after the other
        # activations of its pass, which may add or finish tasks of the branch (and arrive here again)
        activation._qms_read_at = task_saves()
        if created and arriving.status not in (STATUS.CANCELED, STATUS.REVIVED):
            activation._qms_arrived_read = [arriving]
        if prefix is not None and prefix == arriving_token.get_common_split_prefix(task.token, arriving.pk) and (
                flow_task._continue_on_condition is None or flow_task.condition_takes_rows):
            activation._qms_active_read = {prefix: _Rows(
                t for t in rows if t.token.token.startswith(prefix)
                and t.status not in (STATUS.DONE, STATUS.CANCELED, STATUS.REVIVED))}
        return activation

    def _write(self):
        """Write the join task created by this pass (as it stands: STARTED, or DONE) and link its arrivals."""
        arrived = self.arrived()
        self.task.save()
        self.task.previous.add(*self.__dict__.pop("_qms_arrivals"))
        self._qms_arrived = arrived  # its incoming tasks are these (arrived() need not read the links back)
        _pending_joins(self.process).pop(self.flow_task, None)

    # an activation whose task is not written yet has no key: it is itself (the only one of its task) for its life
    def __hash__(self):
        return id(self) if "_qms_unkeyed" in self.__dict__ else super().__hash__()

    def __eq__(self, other):
        if "_qms_unkeyed" in self.__dict__ or "_qms_unkeyed" in getattr(other, "__dict__", {}):
            return self is other
        return super().__eq__(other)

    @Activation.status.super()
    def activate(self):
        if "_qms_arrivals" in self.__dict__ and not self.is_done():
            self._write()  # it waits for other arrivals (later steps): they must find it
        super().activate.original()

    def _read_with_lookup(self, name):
        """A value read with the join's lookup (create), while no task has been saved since; else None."""
        if getattr(self, "_qms_read_at", None) != task_saves():
            return None
        return getattr(self, name, None)

    def arrived(self):
        """The incoming tasks that count (not cancelled or revived), read once per arrival."""
        if "_qms_arrivals" in self.__dict__:  # not written yet: its arrivals are those of this pass
            return [t for t in self._qms_arrivals if t.status not in (STATUS.CANCELED, STATUS.REVIVED)]
        if not hasattr(self, "_qms_arrived"):
            read = self._read_with_lookup("_qms_arrived_read")
            self._qms_arrived = read if read is not None else list(
                self.task.previous.exclude(status__in=[STATUS.CANCELED, STATUS.REVIVED]))
        return self._qms_arrived

    def _join_token_prefixes(self):
        return {prev.token.get_common_split_prefix(self.task.token, prev.pk) for prev in self.arrived()}

    def _active_join_tasks(self, join_token_prefix):
        """The still-active tasks of the branch, read once per arrival (is_done and complete both ask, one
        after the other)."""
        memo = self.__dict__.setdefault("_qms_active", {})
        if join_token_prefix not in memo:
            read = (self._read_with_lookup("_qms_active_read") or {}).get(join_token_prefix)
            if read is None:
                read = super()._active_join_tasks(join_token_prefix)
                bool(read)  # evaluated: exists() and iteration then read the cached rows
            memo[join_token_prefix] = read
        return memo[join_token_prefix]

    @Activation.status.super()
    def complete(self):
        with self.exception_guard(), transaction.atomic(savepoint=_savepoint()):
            join_prefixes = self._join_token_prefixes()
            if len(join_prefixes) > 1:
                raise FlowRuntimeError(f"Multiple tokens {join_prefixes} came to join {self.flow_task.name}")
            if join_prefixes and self.flow_task._continue_on_condition:
                active_tasks = self._active_join_tasks(next(iter(join_prefixes)))
                if active_tasks.exists() and self.flow_task._continue_on_condition(self, active_tasks):
                    self.cancel_active_tasks(active_tasks)
            if "_qms_arrivals" in self.__dict__:  # created by this pass: one INSERT, already done
                self.task.finished = now()
                self._write()
                task_finished.send(sender=self.flow_class, process=self.process, task=self.task)
            else:
                super(ViewflowJoinActivation, self).complete.original()


class TimerActivation(_InsertOnce, ViewflowTimerActivation):
    """The Timer event: written once, already scheduled (viewflow inserts it NEW, then updates it in a savepoint)."""

    @Activation.status.super()
    def activate(self):
        with self.exception_guard(), transaction.atomic(savepoint=_savepoint()):
            delay = self.flow_task._delay
            if callable(delay):
                delay = delay(self)
            if isinstance(delay, timedelta):
                delay = now() + delay
            if not isinstance(delay, datetime):
                raise ValueError(f"Timer delay must be a timedelta or datetime, got {delay!r}")
            self.task.scheduled = delay
            self._save_once()


class If(flow.If):
    activation_class = IfActivation


class Switch(flow.Switch):
    activation_class = SwitchActivation


class Split(flow.Split):
    activation_class = SplitActivation


class Join(flow.Join):
    activation_class = JoinActivation
    #: whether `continue_on_condition` accepts the branch's open tasks as a list (exists(), iteration) rather
    #: than viewflow's queryset; without a condition the join reads them with its lookup either way
    condition_takes_rows = False


class Timer(flow.Timer):
    activation_class = TimerActivation
