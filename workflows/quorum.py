"""Parallel and quorum sign-offs: ask N approvers at once and go on when the
policy says the question is settled.

Built on what the flows already use: `FanOut` (one task per item, `task.data =
item`) and viewflow's `flow.Join(continue_on_condition=...)`, which cancels the
branch tasks still open once the condition holds. Every branch completion runs
under the flow's lock (`QmsFlow.lock_impl`, SELECT ... FOR UPDATE on the process
row), so the Join sees the signatures one at a time and fires exactly once.

The pieces:

- `Quorum(k=None, first_rejection=False)`: the policy. Ends as *approved* when
  all N (k=None) or k approvals are in; as *rejected* at the first rejection
  (first_rejection=True) or as soon as k can no longer be reached (with k=None a
  single rejection always makes "all" unreachable).
- `seats(activation, policy, items)`: the FanOut data source. Each item is a
  dict naming its approver: `{"user": pk}` (the task is assigned to that person)
  or `{"permission": "accounts.dept_quality_manager"}` (the task waits in that
  queue), plus any data of your own. `user_seats()`, `member_seats()` and
  `queue_seat()` build items for named users, everyone holding a department
  role, or one queue. The policy, the round and N are written into every seat,
  so a policy changed later does not change a sign-off already under way.
- `QuorumStep`: a `Step` whose tasks are seats. It records each signer's
  decision on the task, refuses a second signature by the same person in the
  same round, routes by the seat (`seat_owner`, `seat_permission` are applied
  by default), gives the action `ctx.quorum` (the outcome *including* this
  signature, so the action knows when it is the decisive one) and audits
  `quorum.decided` once, when the outcome is known.
- `QuorumJoin`: the Join. It continues once the outcome is known and cancels
  the open seats, each audited (`task.cancelled`, reason "quorum reached").
- `outcome(process, step)` / `approved(step)`: read the outcome (approved or
  rejected, who signed what) after the Join, e.g. in the gateway that follows.

Example (two of the three Engineering managers, a rejection ends it)::

    from workflows import quorum

    class MyFlow(QmsFlow):
        approvals = FanOut().Next(this.approve, data_source=this.approvers)
        approve = (quorum.QuorumStep(ApprovalForm, this.approved, meanings=[Meaning.APPROVED, Meaning.REJECTED])
                   .Annotation(title=_("Approve")).Next(this.approvals_done))
        approvals_done = quorum.QuorumJoin().Next(this.outcome)
        outcome = flow.If(quorum.approved("approve")).Then(this.go_on).Else(this.rework)

        def approvers(self, activation):
            return quorum.seats(activation, quorum.Quorum(k=2, first_rejection=True),
                                quorum.member_seats(Department.ENGINEERING, Role.MANAGER))

        def approved(self, ctx):
            ...  # record ctx.meaning; ctx.quorum.decided / .approved tell whether this signature settled it

Used by P2 (the further signatures of a disposition: all of them, a rejection
ends it) and P4 (document approval by a group, per the approval matrix).
"""
from dataclasses import dataclass, field
from typing import Optional

from django.utils.translation import gettext as _
from viewflow import this
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from accounts.models import User, active_members, department_permission
from core import audit
from core.errors import WrongState
from inbox import drafts

from .gateways import Join, JoinActivation
from .steps import Step

APPROVED = "approved"
REJECTED = "rejected"
PENDING = "pending"

CANCEL_REASON = "quorum reached"


# --- the policy -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quorum:
    """When a parallel sign-off is settled. `k=None`: every seat must approve."""

    k: Optional[int] = None
    first_rejection: bool = False

    def __post_init__(self):
        if self.k is not None and (not isinstance(self.k, int) or self.k < 1):
            raise ValueError("Quorum k must be a positive number (or None for all)")

    @classmethod
    def all(cls, first_rejection=False):
        return cls(None, first_rejection)

    def needed(self, n):
        return n if self.k is None else self.k

    def decide(self, approvals, rejections, n):
        """APPROVED, REJECTED or PENDING for `approvals` and `rejections` out of `n` seats."""
        if self.first_rejection and rejections:
            return REJECTED
        needed = self.needed(n)
        if approvals >= needed:
            return APPROVED
        if n - rejections < needed:  # k can no longer be reached
            return REJECTED
        return PENDING

    def check(self, n):
        if n == 0:
            raise WrongState(_("No one can sign: the group of approvers is empty."))
        if self.needed(n) > n:
            raise WrongState(_("Only %(n)s people can sign, but %(k)s approvals are needed.") % {"n": n, "k": self.k})

    def as_data(self):
        return {"k": self.k, "first_rejection": self.first_rejection}

    @classmethod
    def from_data(cls, data):
        return cls(data.get("k"), bool(data.get("first_rejection")))

    def describe(self, n):
        """'2 of 3 must approve; a rejection ends it' (in the current language)."""
        if self.k is None:
            text = _("all %(n)s must approve") % {"n": n}
        else:
            text = _("%(k)s of %(n)s must approve") % {"k": self.k, "n": n}
        if self.first_rejection and self.k is not None:
            text += "; " + _("a rejection ends it")
        return text


# --- seats (FanOut data) ----------------------------------------------------------------------------------


def user_seats(users, **extra):
    """One seat per person (duplicates dropped), assigned to them."""
    items, seen = [], set()
    for user in users:
        if user.pk not in seen:
            seen.add(user.pk)
            items.append({"user": user.pk, "label": user.printed_name, **extra})
    return items


def members(department, role):
    """Active people holding `role` in `department`, in a stable order."""
    return list(active_members(department=department, role=role).order_by("pk"))


def member_seats(department, role, exclude=(), **extra):
    """One seat per active member holding `role` in `department` (not those in `exclude`),
    each assigned to that member; the group's permission is kept on the task."""
    skip = {u.pk for u in exclude}
    permission = department_permission(department, role)
    return [{**item, "permission": permission}
            for item in user_seats([u for u in members(department, role) if u.pk not in skip], **extra)]


def queue_seat(permission, label="", **extra):
    """One seat waiting in a queue: whoever holds `permission` claims and signs it."""
    return {"permission": permission, "label": label, **extra}


def seats(activation, policy, items):
    """The FanOut data source: `items` stamped with the policy, the round (the split
    task) and N. Refuses (WrongState) when no one can sign or k exceeds N."""
    items = list(items)
    policy.check(len(items))
    task = activation.saved_task() if hasattr(activation, "saved_task") else activation.task  # the round's key
    stamp = {**policy.as_data(), "round": task.pk, "n": len(items)}
    return [{**item, "quorum": {**stamp, "seat": number}} for number, item in enumerate(items, 1)]


def seat_owner(activation):
    """viewflow `.Assign()`: the person a seat names, else None (a queue seat)."""
    pk = (activation.task.data or {}).get("user")
    return User.objects.get(pk=pk) if pk else None


def seat_permission(activation):
    """viewflow `.Permission()`: the queue (or group) permission a seat names."""
    return (activation.task.data or {}).get("permission") or None


# --- reading the outcome ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """A round's state: `status` APPROVED / REJECTED / PENDING, and who signed what."""

    policy: Quorum
    n: int
    status: str
    signed: list = field(default_factory=list)  # [{"user", "name", "decision", "at", "seat"}]
    open_seats: list = field(default_factory=list)  # [label]

    @property
    def decided(self):
        return self.status != PENDING

    @property
    def approved(self):
        return self.status == APPROVED

    @property
    def rejected(self):
        return self.status == REJECTED

    @property
    def approvers(self):
        return [s for s in self.signed if s["decision"] == APPROVED]

    def as_data(self):
        return {"status": self.status, "policy": self.policy.as_data(), "n": self.n,
                "signed": [{"user": s["user"], "name": s["name"], "decision": s["decision"], "seat": s["seat"]}
                           for s in self.signed]}


def round_tasks(process, node, round_id):
    return Task.objects.filter(process=process, flow_task=node, data__quorum__round=round_id) \
        .select_related("owner").order_by("pk")


def _outcome(tasks, counting=None):
    tasks = list(tasks)
    if not tasks:
        return None
    seat = tasks[0].data["quorum"]
    policy, n = Quorum.from_data(seat), seat["n"]
    signed, open_seats = [], []
    for task in tasks:
        counting_this = counting is not None and task.pk == counting.pk
        # the seat being signed: its decision is in memory, written when the step completes the task
        data = (counting if counting_this else task).data["quorum"]
        counted = task.status == STATUS.DONE or counting_this
        if counted and data.get("decision"):
            signed.append({"user": task.owner_id, "name": task.owner.printed_name if task.owner_id else "",
                           "decision": data["decision"], "at": task.finished, "seat": data["seat"]})
        elif task.status not in (STATUS.DONE, STATUS.CANCELED):
            open_seats.append(task.data.get("label", ""))
    approvals = sum(1 for s in signed if s["decision"] == APPROVED)
    status = policy.decide(approvals, len(signed) - approvals, n)
    return Outcome(policy=policy, n=n, status=status, signed=signed, open_seats=open_seats)


def _node(process, step):
    return getattr(process.flow_class, step) if isinstance(step, str) else step


def outcome(process, step, round_id=None):
    """The outcome of the latest round of `step` (a node or its name) in `process`,
    or of `round_id`; None when the step never ran."""
    node = _node(process, step)
    if round_id is None:
        settled = getattr(process, "_qms_settled", {}).get(node.name)
        if settled is not None:  # the latest round, settled by its join in this transaction (QuorumJoin)
            return settled
        last = Task.objects.filter(process=process, flow_task=node, data__quorum__isnull=False).order_by("-pk").first()
        if last is None:
            return None
        round_id = last.data["quorum"]["round"]
    return _outcome(round_tasks(process, node, round_id))


def approved(step):
    """Gateway predicate after the Join: did the latest round of `step` end approved?"""
    def predicate(activation):
        result = outcome(activation.process, step)
        return bool(result and result.approved)
    return predicate


def task_outcome(task):
    """The outcome of the round `task` belongs to (for pages and the API), or None."""
    seat = (task.data or {}).get("quorum")
    if not seat:
        return None
    return _outcome(round_tasks(task.process, task.flow_task, seat["round"]))


# --- the step ------------------------------------------------------------------------------------------------


def meaning_decision(ctx):
    """Default decision: the meaning of the signature (approved → approves)."""
    return APPROVED if ctx.meaning == APPROVED else REJECTED


class QuorumStep(Step):
    """A signing step whose tasks are quorum seats (see the module docstring).

    `decision(ctx)` → APPROVED / REJECTED; by default the signature's meaning.
    Routing defaults to the seat: `.Assign(seat_owner)` and `.Permission(seat_permission)`;
    call `.Permission(...)` yourself to route differently."""

    def __init__(self, form_class, action, *, decision=None, **kwargs):
        super().__init__(form_class, action, **kwargs)
        self._decision = decision
        self.Assign(seat_owner)
        self.Permission(seat_permission)

    def _resolve(self, instance):
        super()._resolve(instance)
        action = self._action
        decision = this.resolve(instance, self._decision) if self._decision is not None else meaning_decision

        def run(ctx):
            self._sign_seat(ctx, action, decision)

        self._action = run

    def _sign_seat(self, ctx, action, decision):
        task = ctx.task
        seat = (task.data or {}).get("quorum")
        if not seat:  # not started by quorum.seats(): behave as a plain step
            ctx.quorum = None
            return action(ctx)
        # "already signed in this round" was checked under the flow lock by actions.complete_step (the only
        # caller: node.refusal → forbidden_reason → second_signature_reason), so a racing twin is DONE by now
        seat["decision"] = decision(ctx)  # saved with the task when the step completes it (one UPDATE)
        rows = getattr(task.process, "_qms_seat_rows", {}).pop((task.pk, seat["round"]), None)
        if rows is None:
            rows = round_tasks(task.process, self, seat["round"])
        ctx.quorum = _outcome(rows, counting=task)
        # the join this seat arrives at in the same transaction sees the same round (this seat counted)
        rounds = getattr(task.process, "_qms_rounds", {})
        rounds[(self.name, seat["round"])] = ctx.quorum
        task.process._qms_rounds = rounds
        action(ctx)
        if ctx.quorum.decided:
            audit.log("quorum.decided", task.process, actor=ctx.actor, process_id=task.process_id,
                      new={"step": self.name, "round": seat["round"], **ctx.quorum.as_data()})

    def second_signature_reason(self, user, task):
        seat = (task.data or {}).get("quorum")
        if not seat:
            return None
        rows = list(round_tasks(task.process_id, self, seat["round"]))
        # Kept for _sign_seat, which counts the round when this seat is signed: complete_step asks this
        # under the flow lock just before, on the process it re-read with the task (inbox.queues.task_lock),
        # so no other seat can change in between and a read made before the lock is on another object.
        # Taken once (popped): a later signature reads the round again.
        if "process" in task._state.fields_cache:
            kept = getattr(task.process, "_qms_seat_rows", None)
            if kept is None:
                kept = task.process._qms_seat_rows = {}
            kept[(task.pk, seat["round"])] = rows
        if any(row.status == STATUS.DONE and row.owner_id == user.pk and row.pk != task.pk for row in rows):
            return _("You have already signed in this round; another person must sign this one.")
        return None

    def forbidden_reason(self, user, task, *, before_lock=False, completing=False):
        # "already signed in this round" reads the round: before the lock, that read would be made again under it
        return super().forbidden_reason(user, task, completing=completing) or (
            None if before_lock else self.second_signature_reason(user, task))

    def bound_person(self, task):
        """A named seat is only ever that person's (or their substitute's)."""
        return (task.data or {}).get("user") or super().bound_person(task)


# --- the join ---------------------------------------------------------------------------------------------------


class QuorumJoinActivation(JoinActivation):
    def cancel_active_tasks(self, active_tasks):
        tasks = list(active_tasks)
        super().cancel_active_tasks(active_tasks)
        settled = self.flow_task.settled_outcome(self)
        for task in tasks:
            drafts.drafts_completed(task)  # a cancelled seat's draft is of no use to anyone
            audit.log("task.cancelled", task, process_id=task.process_id, reason=CANCEL_REASON,
                      new={"step": task.flow_task.name, "status": STATUS.CANCELED,
                           "outcome": settled.status if settled else None})


class QuorumJoin(Join):
    """Waits for the seats of a quorum round; continues as soon as the outcome is
    known and cancels the seats still open (audited, reason "quorum reached")."""

    activation_class = QuorumJoinActivation
    condition_takes_rows = True  # _settled reads the outcome, not the open seats it is given

    def __init__(self, **kwargs):
        super().__init__(continue_on_condition=self._settled, **kwargs)

    def settled_outcome(self, activation):
        """The outcome of the round that arrives at this join (from its incoming seats). Read once per
        activation: viewflow asks on each arrival and again when it cancels the open seats, all in the
        one transaction, under the flow lock, after the seat's own decision was saved."""
        if not hasattr(activation, "_qms_settled"):
            activation._qms_settled = None
            for task in activation.arrived():
                seat = (task.data or {}).get("quorum")
                if seat:
                    counted = getattr(activation.process, "_qms_rounds", {}).get((task.flow_task.name, seat["round"]))
                    activation._qms_settled = counted or _outcome(
                        round_tasks(activation.process, task.flow_task, seat["round"]))
                    if activation._qms_settled.decided:
                        # the gateway after this join asks `approved(step)` in the same transaction
                        settled = getattr(activation.process, "_qms_settled", {})
                        settled[task.flow_task.name] = activation._qms_settled
                        activation.process._qms_settled = settled
                    break
        return activation._qms_settled

    def _settled(self, activation, active_tasks):
        result = self.settled_outcome(activation)
        return bool(result and result.decided)
