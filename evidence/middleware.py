"""Auditors are read-only everywhere, and everything they open is audited.

Enforced here, once, for every URL (browser and API): any method other than GET,
HEAD and OPTIONS from an auditor is refused with 403 — except signing out,
switching the language and requesting an evidence bundle. API requests are
authenticated here from their token, since DRF authenticates only inside views.
Each request an auditor makes (allowed or refused) is written to the audit trail
as "auditor.viewed" / "auditor.refused"."""
from django.db import transaction
from django.http import HttpResponseForbidden
from django.utils.translation import gettext as _

from .access import is_auditor

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ALLOWED_WRITES = ("/accounts/logout/", "/i18n/setlang/", "/qms/evidence/bundles/new/", "/api/evidence/bundles/")
UNAUDITED = ("/static/", "/favicon")


def _api_user(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Token "):
        return None
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=header.split(" ", 1)[1].strip()).first()
    return token.user if token is not None and token.user.is_active else None


class AuditorReadOnlyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is None or not user.is_authenticated) and request.path.startswith("/api/"):
            user = _api_user(request)
        if user is None or not user.is_authenticated or user.is_superuser or not is_auditor(user):
            return self.get_response(request)
        if request.path.startswith(UNAUDITED):
            return self.get_response(request)
        if request.method not in SAFE_METHODS and not request.path.startswith(ALLOWED_WRITES):
            self._log(user, request, "auditor.refused", 403)
            return HttpResponseForbidden(_("Auditors have read-only access."))
        response = self.get_response(request)
        self._log(user, request, "auditor.viewed", response.status_code)
        return response

    @staticmethod
    def _log(user, request, action, status):
        from core import audit

        with transaction.atomic():
            audit.log(action, ("auditor", str(user.pk), user.get_username()), actor=user,
                      new={"method": request.method, "path": request.path[:500],
                           "query": request.META.get("QUERY_STRING", "")[:500], "status": status})
