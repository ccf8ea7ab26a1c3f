"""Actions on auditor access (audited, SIG-14)."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.errors import InvalidInput

from .access import forget
from .grant_rules import unknown_record_types, unknown_record_types_message
from .models import AuditorGrant


def _check_record_types(record_types):
    """The scope names registered record types only: the same refusal for the page, the API, the admin and
    any other caller."""
    unknown = unknown_record_types(list(record_types or ()))
    if unknown:
        message = unknown_record_types_message(unknown)
        raise InvalidInput(message, field_errors={"record_types": [message]})


@transaction.atomic
def grant_auditor_access(user, *, granted_by, reason, valid_from=None, valid_until=None, record_types=(),
                         date_from=None, date_to=None):
    """Make `user` an auditor (read-only) for the given window and scope."""
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    _check_record_types(record_types)
    grant = AuditorGrant.objects.create(
        user=user, granted_by=granted_by, reason=reason, valid_from=valid_from or timezone.now(),
        valid_until=valid_until, record_types=list(record_types), date_from=date_from, date_to=date_to)
    audit.log("access.auditor_granted", grant, actor=granted_by, reason=reason,
              new={"user": user.get_username(), "valid_from": grant.valid_from, "valid_until": valid_until,
                   "record_types": list(record_types), "date_from": date_from, "date_to": date_to})
    return grant


SCOPE_FIELDS = ["valid_from", "valid_until", "record_types", "date_from", "date_to"]


@transaction.atomic
def change_auditor_access(grant, *, changed_by, reason, **changes):
    """Change the window or scope of a grant (SCOPE_FIELDS); the old and new values are audited."""
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    unknown = set(changes) - set(SCOPE_FIELDS)
    if unknown:
        raise InvalidInput(_("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    if "record_types" in changes:
        _check_record_types(changes["record_types"])
    grant = AuditorGrant.objects.select_for_update().get(pk=grant.pk)
    old = {f: getattr(grant, f) for f in changes if getattr(grant, f) != changes[f]}
    if not old:
        return grant
    for field, value in changes.items():
        setattr(grant, field, list(value) if field == "record_types" else value)
    grant.save(update_fields=list(old))
    audit.log("access.auditor_changed", grant, actor=changed_by, reason=reason, old=old,
              new={f: getattr(grant, f) for f in old} | {"user": grant.user.get_username()})
    forget(grant.user)
    return grant


@transaction.atomic
def revoke_auditor_access(grant, *, revoked_by, reason):
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    grant = AuditorGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is not None:
        return grant
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    forget(grant.user)
    audit.log("access.auditor_revoked", grant, actor=revoked_by, reason=reason,
              new={"user": grant.user.get_username(), "revoked_at": grant.revoked_at})
    return grant


@transaction.atomic
def end_auditor_role(user, *, actor, reason):
    """End `user`'s auditor role: every grant they hold is revoked and no longer makes them
    read-only (e.g. an auditor who joins the company as staff). Audited (SIG-14)."""
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    now = timezone.now()
    grants = list(AuditorGrant.objects.select_for_update().filter(user=user, role_ended_at__isnull=True))
    if not grants:
        raise InvalidInput(_("%(name)s is not an auditor.") % {"name": user.printed_name},
                           field_errors={"user": [_("Not an auditor.")]})
    AuditorGrant.objects.filter(pk__in=[g.pk for g in grants], revoked_at__isnull=True).update(revoked_at=now)
    AuditorGrant.objects.filter(pk__in=[g.pk for g in grants]).update(role_ended_at=now)
    audit.log("access.auditor_role_ended", ("auditor", str(user.pk), user.get_username()), actor=actor,
              reason=reason, new={"user": user.get_username(), "grants": [g.pk for g in grants]})
    forget(user)
