"""Auditors are read-only everywhere, and everything they open is audited.

Browser pages: an auditor signed in by session is refused any method other than GET,
HEAD and OPTIONS (except signing out, switching the language and asking for an evidence
bundle) here, before the view runs. API calls are authenticated by DRF inside the view,
so their read-only mode is enforced there, by evidence.permissions.AuditorsReadOnly, from
the user DRF authenticated — whatever the spelling of the Authorization header.

Each request an auditor makes, browser or API, allowed or refused, is written to the
audit trail ("auditor.viewed" / "auditor.refused") once the response is known: by then
`request.user` is the user DRF authenticated (DRF sets it on the Django request)."""
from django.db import transaction
from django.http import HttpResponseForbidden
from django.utils.translation import gettext as _

from core import audit

from .access import is_auditor
from .permissions import ALLOWED_WRITES, auditor_may  # noqa: F401  (ALLOWED_WRITES: part of this module's story)

UNAUDITED = ("/static/", "/favicon")


def _auditor(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated and is_auditor(user) else None


class AuditorReadOnlyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(UNAUDITED):
            return self.get_response(request)
        user = _auditor(request)
        if user is not None and not auditor_may(user, request.method, request.path):
            self._log(user, request, "auditor.refused", 403)
            return HttpResponseForbidden(_("Auditors have read-only access."))
        response = self.get_response(request)
        user = _auditor(request)  # for the API: the user DRF authenticated
        if user is not None:
            refused = response.status_code == 403 and not auditor_may(user, request.method, request.path)
            self._log(user, request, "auditor.refused" if refused else "auditor.viewed", response.status_code)
        return response

    @staticmethod
    def _log(user, request, action, status):
        with transaction.atomic():
            audit.log(action, ("auditor", str(user.pk), user.get_username()), actor=user,
                      new={"method": request.method, "path": request.path[:500],
                           "query": request.META.get("QUERY_STRING", "")[:500], "status": status})
