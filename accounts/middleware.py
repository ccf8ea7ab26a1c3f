import copy

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from viewflow.workflow.exceptions import FlowLockFailed

# The API answers 401 itself; these need no session.
OPEN_PREFIXES = ("/accounts/login/", "/accounts/password_reset/", "/accounts/reset/", "/api/", "/static/",
                 "/i18n/", "/admin/",
                 "/answer/")  # one-time links (forms.links): the page itself checks the token


class LoginRequiredMiddleware:
    """Every browser page needs a signed-in user: anonymous visitors go to the login
    page (and come back after it), instead of meeting a bare 403."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(OPEN_PREFIXES):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


class PasswordExpiryMiddleware:
    """SIG-12: a signed-in user whose password has expired can only change it (or sign out)."""

    ALLOWED = ("/accounts/password_change/", "/accounts/logout/", "/static/", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated and getattr(user, "password_expired", False)
                and not request.path.startswith(self.ALLOWED + ("/api/",))):
            messages.warning(request, _("Your password has expired. Choose a new one to continue."))
            return redirect("/accounts/password_change/")
        return self.get_response(request)


class FlowBusyMiddleware:
    """viewflow's own task views (assign, release, cancel) take the process lock too;
    a process still locked after its retries is answered 409 with a clear page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, FlowLockFailed):
            return HttpResponse(_("Someone else is working on this process right now. Please try again."),
                                status=409, content_type="text/plain; charset=utf-8")
        return None


class UnchangedSessionMiddleware:
    """A session written back only when its content changed. viewflow's list and dashboard views
    store the page to return to (`vf-pin-location`) on every view, which marks the session modified
    and costs an UPDATE (and on SQLite a write lock) per page even when the value is the same.

    Placed right after SessionMiddleware: the session is compared with what it held when the
    request came in (same key, same items); anything else — a login's new key, a logout's flush,
    a new value — is saved as before."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        # a deep copy: a value changed in place (and the session marked modified) must not compare equal
        key_before, items_before = session.session_key, copy.deepcopy(dict(session.items()))
        response = self.get_response(request)
        if (session.modified and session.session_key is not None and session.session_key == key_before
                and dict(session.items()) == items_before):
            session.modified = False
        return response
