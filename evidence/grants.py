"""Actions on auditor access (audited, SIG-14)."""
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.errors import InvalidInput

from .models import AuditorGrant


@transaction.atomic
def grant_auditor_access(user, *, granted_by, reason, valid_from=None, valid_until=None, record_types=(),
                         date_from=None, date_to=None):
    """Make `user` an auditor (read-only) for the given window and scope."""
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    grant = AuditorGrant.objects.create(
        user=user, granted_by=granted_by, reason=reason, valid_from=valid_from or timezone.now(),
        valid_until=valid_until, record_types=list(record_types), date_from=date_from, date_to=date_to)
    audit.log("access.auditor_granted", grant, actor=granted_by, reason=reason,
              new={"user": user.get_username(), "valid_from": grant.valid_from, "valid_until": valid_until,
                   "record_types": list(record_types), "date_from": date_from, "date_to": date_to})
    return grant


@transaction.atomic
def revoke_auditor_access(grant, *, revoked_by, reason):
    if not (reason or "").strip():
        raise InvalidInput(_("A reason is required."), field_errors={"reason": [_("Required.")]})
    grant.revoked_at = timezone.now()
    grant.save(update_fields=["revoked_at"])
    audit.log("access.auditor_revoked", grant, actor=revoked_by, reason=reason,
              new={"user": grant.user.get_username(), "revoked_at": grant.revoked_at})
    return grant
