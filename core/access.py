"""One authorisation entry point for records (STYLE: access_record).

The registry is open to people with a department membership (a quality system is
transparent inside the company), closed to users without one. Two kinds of rule are
registered by the apps that own them (core imports no procedure and no app above it):

- a procedure's `team_records(user)` (core.registry.Procedure): records a person sees
  without a membership, e.g. the 8D reports whose team they are on;
- a *scope* (`register_scope`): for the users it applies to, it replaces everything above,
  e.g. an auditor sees only what an active grant covers (evidence.access)."""
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404

from . import registry
from .models import Record


@dataclass(frozen=True)
class Scope:
    """What a scoped user may see: `records` (a Q over Record), and whether they may open the
    registry at all right now (`open`: e.g. an auditor whose grant is current)."""

    records: Q
    open: bool


_SCOPES = []


def register_scope(scope):
    """`scope(user)` → None when it does not apply to `user`, else a Scope."""
    _SCOPES.append(scope)


def _scoped(user):
    for scope in _SCOPES:
        condition = scope(user)
        if condition is not None:
            return condition
    return None


def membership_pairs(user):
    """The (department, role) pairs of `user`'s memberships, read once per user object (a request's user lives for
    that request; a membership granted meanwhile counts from the next request): the department permissions
    (accounts.backends) and whether the user belongs anywhere come from this one query."""
    if not hasattr(user, "_membership_pairs"):
        user._membership_pairs = frozenset(user.memberships.values_list("department", "role"))
    return user._membership_pairs


def has_membership(user):
    """Whether `user` belongs to any department (membership_pairs: one query per request)."""
    return bool(membership_pairs(user))


def can_view_processes(user):
    return user.is_authenticated and (user.is_superuser or has_membership(user))


def _team_records(user):
    """Records the registered procedures show to `user` without a membership."""
    condition = Q(pk__in=[])
    for procedure in registry.procedures():
        if procedure.team_records is not None:
            condition |= Q(pk__in=procedure.team_records(user))
    return Record.objects.filter(condition)


def can_view_records(user):
    """The records registry: department members, team members of a procedure's record, and
    scoped users (auditors) while their scope shows anything."""
    if not user.is_authenticated:
        return False
    scoped = _scoped(user)
    if scoped is not None:
        return scoped.open
    return can_view_processes(user) or _team_records(user).exists()


def records_visible_to(user):
    """Records a user may see (see the module docstring)."""
    if not user.is_authenticated:
        return Record.objects.none()
    scoped = _scoped(user)
    if scoped is not None:
        return Record.objects.filter(scoped.records)
    if can_view_processes(user):
        return Record.objects.all()
    return _team_records(user)


def can_view_record(user, record):
    return records_visible_to(user).filter(pk=record.pk).exists()


def access_record(user, number):
    record = records_visible_to(user).filter(number=number).first()
    if record is None:
        raise Http404("No such record")
    return record
