"""Login lock-out (SIG-12) on django-axes, with a fixed window.

After AXES_FAILURE_LIMIT failed sign-ins of one user name from one address, that pair
is locked for AXES_COOLOFF_TIME counted from the failure that reached the limit: further
attempts during the lock are refused without being recorded, so an attacker cannot keep
it alive (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False). The refusal tells the
user when the lock ends, on the page and in the API. A locked user name cannot sign with
an old API token or sign a record either (core.authentication, core.esign)."""
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.db.models import Max
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _


def locking_failures(username, request=None):
    """The recorded failures of `username` (from any address) that reached the limit: a lock runs
    from the latest of them (a queryset; `locked_until` and the signature check read it)."""
    limit = get_failure_limit(request, {"username": username})
    return AccessAttempt.objects.filter(username=username, failures_since_start__gte=limit)


def lock_end(last_failure, request=None):
    """When a lock that started at `last_failure` (the latest locking failure, or None) ends, or
    None when it has ended or there is none."""
    cool_off = get_cool_off(request)
    if last_failure is None or cool_off is None:
        return None
    end = last_failure + cool_off
    return end if end > timezone.now() else None


def locked_until(username, request=None):
    """When the lock of `username` ends (from any address), or None when it is not locked."""
    if not username or get_cool_off(request) is None:
        return None
    return lock_end(locking_failures(username, request).aggregate(last=Max("attempt_time"))["last"], request)


def lock_message(until):
    local = timezone.localtime(until)
    return _("Too many failed sign-in attempts: this account is locked until %(time)s (%(zone)s). "
             "Try again after that, or ask an administrator.") % {
        "time": date_format(local, "Y-m-d H:i"), "zone": timezone.get_current_timezone_name()}


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the page (or, for the API, the JSON) saying when the lock ends."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    until = locked_until(username, request) or (timezone.now() + (get_cool_off(request) or timezone.timedelta()))
    message = lock_message(until)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "locked_until": until.isoformat()}, status=403)
    return render(request, "accounts/locked.html", {"message": message, "locked_until": until}, status=403)
