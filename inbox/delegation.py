"""Absences, delegation and a manager's reassignment of a task — the one place for their rules.

- `create_delegation()` / `cancel_delegation()`: a person (or their department
  manager, or an administrator) records an absence from `starts_on` to `ends_on`
  (whole days, both inclusive, in the company time zone, settings.TIME_ZONE) and a
  substitute. Refused, with nothing saved: to oneself; a deactivated substitute or one
  whose signing is locked; an end before the start; a start in the past; a period
  overlapping another absence of the same person; a cycle (the substitute, directly or
  through further substitutes, delegates back to the delegator on some shared day).
- `route_new_task()` / `audit_routing()`: called by `workflows.steps.Step` when the flow
  assigns a new task directly to a person (viewflow `.Assign(...)`). While that person is absent,
  the task goes to their substitute (following a chain of absences) and records
  whom the substitute acts for (`task.data["on_behalf_of"]`); the signature and the
  audit entry of its completion say "on behalf of". A substitute who may not act
  on the task (lacks its role, or e.g. wrote what is to be approved) does not get
  it: it goes to its department queue, or stays with the absent person when it has
  no queue — audited either way.
  Tasks already in the absent person's inbox when the absence starts stay there; their
  department manager reassigns them (`reassign_task()`) if they cannot wait.
  Personal steps (`Step(..., delegable=False)`, e.g. read-and-acknowledge) are never
  delegated or reassigned.
- `reassign_task()`: a manager of the task's department (or an administrator) gives an
  open task to a named person who may act on it, with a mandatory reason; audited
  old → new owner. The new owner is notified by the notification module's hook on
  every change of a task's owner (inbox.signals), like a routed substitute is.

Each action owns its transaction and writes its audit entry in it.
"""
import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core import audit
from core.context import acting_as
from core.errors import InvalidInput, NotPermitted, WrongState
from core.models import AuditHead

from accounts.backends import department_permissions
from accounts.models import Membership, Role, User, department_permission, parse_department_permission

from .memo import call_memo, process_of
from .models import Delegation
from .queues import task_lock

MAX_CHAIN = 10  # substitutes of substitutes followed at most (cycles are refused anyway)
OPEN_STATUSES = (STATUS.NEW, STATUS.ASSIGNED)
DELEGATION_KEYS = ("on_behalf_of", "delegated_to", "delegation")  # what route_new_task() adds to task.data


class State:
    UPCOMING = "upcoming"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


STATE_LABELS = {
    State.UPCOMING: gettext_lazy("upcoming"),
    State.ACTIVE: gettext_lazy("active"),
    State.ENDED: gettext_lazy("ended"),
    State.CANCELLED: gettext_lazy("cancelled"),
}


def company_day(at=None):
    """The calendar day of `at` (default: now) in the company's time zone."""
    return timezone.localdate(at or timezone.now(), timezone=timezone.get_default_timezone())


def state_of(delegation, at=None):
    at = at or timezone.now()
    day = company_day(at)
    if delegation.cancelled_at is not None and delegation.cancelled_at <= at:
        # a cancellation of a period that had already ended changes nothing
        if company_day(delegation.cancelled_at) > delegation.ends_on:
            return State.ENDED
        return State.CANCELLED
    if day < delegation.starts_on:
        return State.UPCOMING
    if day > delegation.ends_on:
        return State.ENDED
    return State.ACTIVE


# --- who may manage whose absences ---------------------------------------------------------------


def managed_departments(user):
    """The departments `user` manages."""
    return set(Membership.objects.filter(user=user, role=Role.MANAGER).values_list("department", flat=True))


def can_manage_absences_of(actor, person):
    """An administrator, or a manager of a department `person` belongs to."""
    if actor.is_superuser:
        return True
    if actor.pk == person.pk:
        return True
    return Membership.objects.filter(user=person, department__in=managed_departments(actor)).exists()


def delegations_visible_to(user):
    """Absences `user` may see: their own, those they substitute in, those they created,
    and those of the people of the departments they manage (all of them for an administrator)."""
    qs = Delegation.objects.select_related("delegator", "substitute", "created_by", "cancelled_by")
    if user.is_superuser:
        return qs
    departments = managed_departments(user)
    condition = Q(delegator=user) | Q(substitute=user) | Q(created_by=user)
    if departments:
        condition |= Q(delegator__memberships__department__in=departments)
    return qs.filter(condition).distinct()


# --- finding a substitute ---------------------------------------------------------------------------


def active_delegation(user, at=None, memo=None):
    """The delegation in force for `user` at `at` (default: now), or None. With `memo` (an
    engine call's, inbox.memo) the delegations of the day are read once for everybody."""
    at = at or timezone.now()
    day = company_day(at)
    if memo is not None:
        if ("delegations", day) not in memo:
            memo["delegations", day] = list(Delegation.objects.filter(starts_on__lte=day, ends_on__gte=day)
                                            .select_related("delegator", "substitute")
                                            .order_by("-created_at", "-pk"))
        return next((d for d in memo["delegations", day] if d.delegator_id == user.pk
                     and (d.cancelled_at is None or d.cancelled_at > at)), None)
    return (Delegation.objects.filter(delegator=user, starts_on__lte=day, ends_on__gte=day)
            .filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gt=at))
            .select_related("delegator", "substitute").order_by("-created_at", "-pk").first())


def delegation_chain(user, at=None, memo=None):
    """[A→B, B→C, ...]: the delegations in force at `at` from `user` onwards."""
    chain, seen, current = [], {user.pk}, user
    for _step in range(MAX_CHAIN):
        delegation = active_delegation(current, at, memo)
        if delegation is None or delegation.substitute_id in seen:
            break
        chain.append(delegation)
        seen.add(delegation.substitute_id)
        current = delegation.substitute
    return chain


def substitute_for(user, at=None):
    """The person who takes `user`'s new tasks at `at` (default: now), or None when
    `user` is not absent. Follows substitutes who are absent themselves."""
    chain = delegation_chain(user, at)
    return chain[-1].substitute if chain else None


def holds_permission(user, permission):
    """Whether `user` holds a queue permission through a department membership."""
    return bool(permission) and permission in department_permissions(user)


def may_act_reason(user, node, task):
    """None when `user` may work on `task`, else a sentence saying why not: deactivated,
    lacking the role the task's queue needs, or the step's own rule (e.g. self-approval)."""
    if not user.is_active:
        return _("%(name)s is deactivated.") % {"name": user.printed_name}
    if task.owner_permission and not holds_permission(user, task.owner_permission):
        return _("%(name)s does not hold the role this task needs.") % {"name": user.printed_name}
    forbidden = node.forbidden_reason(user, task) if hasattr(node, "forbidden_reason") else None
    if forbidden:
        return f"{user.printed_name}: {forbidden}"
    return None


def acting_for(task, user):
    """The absent person `user` works for on `task` (it came to them as a substitute), or None."""
    data = task.data if isinstance(task.data, dict) else {}
    if data.get("on_behalf_of") and data.get("delegated_to") == user.pk:
        return User.objects.filter(pk=data["on_behalf_of"]).first()
    return None


# --- creating and cancelling ------------------------------------------------------------------------


def _cycle_through(delegator, substitute, starts_on, ends_on):
    """The existing delegations through which `substitute` (directly or through further
    substitutes) delegates back to `delegator` on some day of [starts_on, ends_on], or None.
    Each hop must share days with the window so far."""
    stack = [(substitute.pk, starts_on, ends_on, [])]
    visited = {}  # delegation pk → windows already explored through it
    while stack:
        person, low, high, path = stack.pop()
        hops = Delegation.objects.filter(delegator_id=person, cancelled_at__isnull=True, starts_on__lte=high,
                                         ends_on__gte=low).select_related("delegator", "substitute")
        for hop in hops:
            window = (max(low, hop.starts_on), min(high, hop.ends_on))
            if any(a <= window[0] and window[1] <= b for a, b in visited.get(hop.pk, [])):
                continue
            visited.setdefault(hop.pk, []).append(window)
            if hop.substitute_id == delegator.pk:
                return path + [hop]
            stack.append((hop.substitute_id, window[0], window[1], path + [hop]))
    return None


def _serialise_writers():
    """Take the audit chain's head row first: every audited write commits one at a time
    anyway (core.audit), and holding it before the checks means the overlap and cycle
    checks see every delegation committed before ours, even two created at once."""
    AuditHead.objects.select_for_update().get_or_create(pk=1)


def create_delegation(*, delegator, substitute, starts_on, ends_on, reason, actor):
    """Record `delegator`'s absence from `starts_on` to `ends_on` (dates, inclusive) with
    `substitute` taking their new tasks. `actor` is the delegator, one of their
    department managers or an administrator (else NotPermitted). Invalid input raises
    InvalidInput with field errors and saves nothing. Returns the Delegation."""
    if not can_manage_absences_of(actor, delegator):
        raise NotPermitted(_("You may only record absences for yourself or for people of a department you manage."))
    errors = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why (e.g. annual leave, business trip).")]
    if not isinstance(starts_on, datetime.date):
        errors["starts_on"] = [_("Required.")]
    if not isinstance(ends_on, datetime.date):
        errors["ends_on"] = [_("Required.")]
    if substitute is None:
        errors["substitute"] = [_("Required.")]
    elif substitute.pk == delegator.pk:
        errors["substitute"] = [_("Nobody can delegate to themselves.")]
    elif not substitute.is_active:
        errors["substitute"] = [_("%(name)s is deactivated.") % {"name": substitute.printed_name}]
    elif substitute.signing_locked_at:
        errors["substitute"] = [_("%(name)s's signing is locked; choose someone else.")
                                % {"name": substitute.printed_name}]
    if not delegator.is_active:
        errors["delegator"] = [_("%(name)s is deactivated.") % {"name": delegator.printed_name}]
    if "starts_on" not in errors and "ends_on" not in errors:
        if ends_on < starts_on:
            errors["ends_on"] = [_("The end must not be before the start.")]
        elif starts_on < company_day():
            errors["starts_on"] = [_("An absence cannot start in the past.")]
    if errors:
        raise InvalidInput(_("The absence was not saved."), field_errors=errors)

    with transaction.atomic():
        _serialise_writers()
        overlapping = (Delegation.objects.filter(delegator=delegator, cancelled_at__isnull=True,
                                                 starts_on__lte=ends_on, ends_on__gte=starts_on)
                       .select_related("substitute").first())
        if overlapping is not None:
            raise InvalidInput(_("The absence was not saved."), field_errors={"starts_on": [
                _("It overlaps the absence from %(start)s to %(end)s (substitute %(name)s); cancel that one first.")
                % {"start": overlapping.starts_on, "end": overlapping.ends_on,
                   "name": overlapping.substitute.printed_name}]})
        cycle = _cycle_through(delegator, substitute, starts_on, ends_on)
        if cycle is not None:
            names = " → ".join([delegator.printed_name] + [hop.delegator.printed_name for hop in cycle]
                               + [delegator.printed_name])
            raise InvalidInput(_("The absence was not saved."), field_errors={"substitute": [
                _("This would make a circle of substitutes (%(names)s): tasks would have nobody to go to.")
                % {"names": names}]})
        delegation = Delegation(delegator=delegator, substitute=substitute, starts_on=starts_on, ends_on=ends_on,
                                reason=reason, created_by=actor)
        delegation.full_clean()
        delegation.save()
        audit.log("delegation.created", delegation, actor=actor, reason=reason,
                  new={"delegator": delegator.username, "substitute": substitute.username,
                       "starts_on": starts_on, "ends_on": ends_on})
    return delegation


def can_cancel(actor, delegation):
    return (actor.pk in (delegation.delegator_id, delegation.created_by_id)
            or can_manage_absences_of(actor, delegation.delegator))


def cancel_delegation(delegation, *, actor, reason=""):
    """End an absence now (or drop it before it starts). Tasks already routed to the
    substitute stay with them. The delegator, its creator, a manager of the delegator's
    department or an administrator may cancel (else NotPermitted); an ended or already
    cancelled absence raises WrongState."""
    if not can_cancel(actor, delegation):
        raise NotPermitted(_("You may not cancel this absence."))
    with transaction.atomic():
        delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
        state = state_of(delegation)
        if state in (State.CANCELLED, State.ENDED):
            raise WrongState(_("This absence is already %(state)s.") % {"state": STATE_LABELS[state]},
                             current_state=state)
        delegation.cancelled_at = timezone.now()
        delegation.cancelled_by = actor
        delegation.cancel_reason = (reason or "").strip()[:300]
        delegation.save(update_fields=["cancelled_at", "cancelled_by", "cancel_reason"])
        audit.log("delegation.cancelled", delegation, actor=actor, reason=delegation.cancel_reason,
                  old={"state": state}, new={"state": State.CANCELLED, "delegator": delegation.delegator.username,
                                             "substitute": delegation.substitute.username})
    return delegation


# --- routing a new task ----------------------------------------------------------------------------------


def route_new_task(node, task, owner, at=None):
    """The owner a new task gets when the flow assigns it directly to `owner` (called by
    `Step.calc_owner`, before the task is saved): `owner` when they are not absent, else
    their substitute (then `task.data` records on whose behalf), or None (the task waits
    in its queue) when the substitute may not act on it. The decision is kept on
    `task._delegation_note` for `audit_routing()` once the task has its id."""
    if owner is None or not isinstance(task.data, dict):
        return owner
    chain = delegation_chain(owner, at, call_memo(process_of(task)))  # read once per engine call (fan-outs)
    if not chain:
        return owner
    substitute = chain[-1].substitute
    refusal = may_act_reason(substitute, node, task)
    note = {"step": node.name, "owner": owner, "chain": [
        {"delegation": d.pk, "from": d.delegator.username, "to": d.substitute.username} for d in chain],
        "reason": chain[0].reason}
    if refusal is None:
        task.data = {**task.data, "on_behalf_of": owner.pk, "delegated_to": substitute.pk,
                     "delegation": chain[0].pk}
        task._delegation_note = {**note, "outcome": "delegated", "substitute": substitute}
        return substitute
    if task.owner_permission:
        task._delegation_note = {**note, "outcome": "queue", "reason": refusal}
        return None
    task._delegation_note = {**note, "outcome": "refused", "reason": refusal}
    return owner


def audit_routing(task):
    """The audit entry of `route_new_task()`'s decision, once the task is saved."""
    note = getattr(task, "_delegation_note", None)
    if note is None:
        return
    del task._delegation_note
    owner, step, chain = note["owner"], note["step"], note["chain"]
    with transaction.atomic():
        if note["outcome"] == "delegated":
            audit.log("task.delegated", task, process_id=task.process_id, on_behalf_of=owner, reason=note["reason"],
                      old={"step": step, "owner": owner.username},
                      new={"step": step, "owner": note["substitute"].username, "on_behalf_of": owner.username,
                           "chain": chain})
        elif note["outcome"] == "queue":
            audit.log("task.delegation_to_queue", task, process_id=task.process_id, reason=note["reason"],
                      old={"step": step, "owner": owner.username},
                      new={"step": step, "queue": task.owner_permission, "chain": chain})
        else:
            audit.log("task.delegation_refused", task, process_id=task.process_id, reason=note["reason"],
                      new={"step": step, "owner": owner.username, "chain": chain})


# --- a manager reassigns a task --------------------------------------------------------------------------


def task_departments(task):
    """The departments a task belongs to: the one of its queue permission
    (`accounts.dept_<department>_<role>`), else those of its owner."""
    parsed = parse_department_permission(task.owner_permission)
    if parsed is not None:
        return {parsed[0]}
    if task.owner_id:
        return set(Membership.objects.filter(user_id=task.owner_id).values_list("department", flat=True))
    return set()


def is_personal(node):
    return not getattr(node, "delegable", False)


def manages_task(actor, task):
    """An administrator, or a manager of the task's department."""
    if actor is None or not actor.is_authenticated:
        return False
    return actor.is_superuser or bool(task_departments(task) & managed_departments(actor))


def can_reassign(actor, task):
    """Whether to offer `actor` the reassignment of `task`: open, not personal, and `actor` manages it."""
    return task.status in OPEN_STATUSES and not is_personal(task.flow_task) and manages_task(actor, task)


def tasks_managed_by(user):
    """Open tasks of the departments `user` manages — queued for a role of such a
    department, or, without a queue, held by one of its people (every open task for an
    administrator)."""
    tasks = Task.objects.filter(status__in=OPEN_STATUSES, flow_task_type="HUMAN") \
        .select_related("owner", "process").order_by("created", "pk")
    if user.is_superuser:
        return tasks
    departments = managed_departments(user)
    permissions = [department_permission(d, role) for d in departments for role in Role.values]
    members = Membership.objects.filter(department__in=departments).values("user_id")
    no_queue = Q(owner_permission__isnull=True) | Q(owner_permission="")
    return tasks.filter(Q(owner_permission__in=permissions) | (no_queue & Q(owner_id__in=members)))


def reassign_candidates(task):
    """Active people of the task's departments who may act on it now (not absent, not
    its current owner), for the manager's choice list."""
    node = task.flow_task
    people = (User.objects.filter(is_active=True, memberships__department__in=task_departments(task))
              .exclude(pk=task.owner_id).distinct().order_by("username"))
    return [p for p in people if may_act_reason(p, node, task) is None and active_delegation(p) is None]


def reassign_task(task, *, actor, new_owner, reason):
    """Give the open task `task` (queued or claimed) to `new_owner`, with a reason.

    Preconditions: `actor` manages the task's department or is an administrator
    (else NotPermitted); the task is open (else WrongState); `new_owner` is active, holds
    the task's role, is not barred by the step's rule (e.g. self-approval), is not absent
    and is not already the owner (else InvalidInput, nothing saved)."""
    node = task.flow_task
    reason = (reason or "").strip()
    if is_personal(node):
        raise NotPermitted(_("This task is personal (e.g. read and acknowledge) and cannot be reassigned."))
    if not manages_task(actor, task):
        raise NotPermitted(_("Only a manager of the task's department may reassign it."))
    with acting_as(actor), task_lock(task), transaction.atomic():  # the task re-read under the lock
        if task.status not in OPEN_STATUSES:
            raise WrongState(_("Only an open task can be reassigned; this one is %(state)s.")
                             % {"state": task.status}, current_state=task.status)
        errors = {}
        if not reason:
            errors["reason"] = [_("A reason is required.")]
        if new_owner is None:
            errors["user"] = [_("Choose the person who takes the task.")]
        elif new_owner.pk == task.owner_id:
            errors["user"] = [_("The task is already with %(name)s.") % {"name": new_owner.printed_name}]
        else:
            refusal = may_act_reason(new_owner, node, task)
            if refusal is None:
                absence = active_delegation(new_owner)
                if absence is not None:
                    refusal = _("%(name)s is absent until %(end)s.") % {"name": new_owner.printed_name,
                                                                        "end": absence.ends_on}
            if refusal:
                errors["user"] = [refusal]
        if errors:
            raise InvalidInput(_("The task was not reassigned."), field_errors=errors)
        old_owner = task.owner
        data = {k: v for k, v in (task.data if isinstance(task.data, dict) else {}).items()
                if k not in DELEGATION_KEYS}  # the new owner acts in their own name
        if node.bound_person(task) is not None or not task.owner_permission:
            data["assignee"] = new_owner.pk  # a task bound to a person is bound to the new one
            if data.get("user"):
                data["user"] = new_owner.pk  # a named quorum seat (workflows.quorum)
        task.data = data
        activation = node.activation_class(task)
        if task.status == STATUS.NEW:
            activation.assign(new_owner)
        else:
            activation.reassign(user=new_owner)
        audit.log("task.reassigned", task, actor=actor, process_id=task.process_id, reason=reason,
                  old={"step": node.name, "owner": old_owner.username if old_owner else None,
                       "queue": task.owner_permission},
                  new={"step": node.name, "owner": new_owner.username})
    return task
