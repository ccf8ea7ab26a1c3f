"""Auditors are read-only in the API: decided from the user DRF authenticated (token in any
spelling DRF accepts, or session), never from the text of the Authorization header."""
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .access import is_auditor

# writes an auditor may make: ask for an evidence bundle, sign in, sign out, change their own
# password (it expires), switch the language
ALLOWED_WRITES = ("/accounts/logout/", "/i18n/setlang/", "/qms/evidence/bundles/new/", "/api/evidence/bundles/",
                  "/api/auth/token/", "/accounts/password_change/")


def auditor_may(user, method, path):
    """Whether `user` may make a `method` request to `path`: anything for a non-auditor,
    reads and the few allowed writes for an auditor."""
    return method in SAFE_METHODS or not is_auditor(user) or path.startswith(ALLOWED_WRITES)


class AuditorsReadOnly(BasePermission):
    """A default permission class of every API view (settings REST_FRAMEWORK)."""

    message = _("Auditors have read-only access.")

    def has_permission(self, request, view):
        return auditor_may(request.user, request.method, request.path)
