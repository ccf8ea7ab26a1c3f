"""Auditor access: who is an auditor, what an auditor may see (SIG-4).

An auditor is a user who holds or held an AuditorGrant: revoking or outliving a grant
takes away what the auditor may see, never the read-only mode; only an administrator's
explicit end of the auditor role (evidence.grants.end_auditor_role) does. Auditors are
read-only everywhere — browser pages through evidence.middleware, the API through
evidence.permissions.AuditorsReadOnly once DRF has authenticated the request, whatever
the Authorization header looks like — and see only the records their *active* grant
covers: inside its time window, of its record types, created in its date range.
Outside the window they see nothing."""
from django.db.models import Exists, Q
from django.utils import timezone

from core.access import Scope

from .models import AuditorGrant

_CACHE = "_qms_auditor_grants"


def _grants(user):
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _CACHE, None)
    if cached is None:
        cached = list(AuditorGrant.objects.filter(user=user, role_ended_at__isnull=True))
        setattr(user, _CACHE, cached)
    return cached


def holds_auditor_grant(user_ref):
    """core.access user fact: whether the user holds or held a grant whose role has not ended (what _grants reads)."""
    return Q(Exists(AuditorGrant.objects.filter(user=user_ref, role_ended_at__isnull=True)))


def no_auditor_grant(user, holds):
    if not holds:
        setattr(user, _CACHE, [])  # a user with grants has them read when first asked


def is_auditor(user):
    """Holds or held auditor access (revoked and expired grants count): read-only, whether or
    not a grant is current, until the auditor role is ended."""
    return bool(_grants(user)) and not user.is_superuser


def active_grants(user, now=None):
    now = now or timezone.now()
    return [g for g in _grants(user) if g.is_active(now)]


def grant_filter(grants):
    """A Q over core.Record selecting what any of the grants covers (none: nothing)."""
    combined = Q(pk__in=[])
    for grant in grants:
        q = Q(pk__isnull=False)  # a grant without scope covers every record
        if grant.record_types:
            q &= Q(record_type__in=grant.record_types)
        if grant.date_from:
            q &= Q(created_at__date__gte=grant.date_from)
        if grant.date_to:
            q &= Q(created_at__date__lte=grant.date_to)
        combined |= q
    return combined


def forget(user):
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def auditor_scope(user):
    """core.access scope (registered in evidence.apps): an auditor sees what an active grant covers."""
    if not is_auditor(user):
        return None
    grants = active_grants(user)
    return Scope(records=grant_filter(grants), open=bool(grants))


def can_manage_grants(user):
    """Who grants, changes and revokes auditor access (the grants page, /api/auditor-grants/):
    administrators — superusers, or whoever holds the model permission — and never an auditor."""
    return (getattr(user, "is_authenticated", False) and not is_auditor(user)
            and (user.is_superuser or user.has_perm("evidence.change_auditorgrant")))
