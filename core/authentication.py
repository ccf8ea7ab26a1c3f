"""API tokens that expire and are revoked (SIG-12, 21 CFR 11.300).

A token is refused — and deleted, so the client must sign in again — once it is older than
QMS["API_TOKEN_MAX_AGE_HOURS"], and while its user's password has expired or their user name
is locked out after failed sign-ins. Tokens are revoked (deleted, audited) when the password
changes, when the user is deactivated and when the login lock-out strikes (receivers below).
A signature asks the same questions whatever authenticated the request (core.esign)."""
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from core import audit

from .access import read_user
from .lockout import lock_message, locked_until


def token_expired(token, now=None):
    hours = settings.QMS.get("API_TOKEN_MAX_AGE_HOURS", 0)
    if not hours:
        return False
    return (now or timezone.now()) - token.created > datetime.timedelta(hours=hours)


def issue_token(user):
    """The user's API token: the current one, or a new one when it has expired."""
    token = Token.objects.filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def revoke_tokens(user, *, reason, actor=None):
    """Delete `user`'s API tokens (audited when there was one)."""
    with transaction.atomic():
        deleted, _rows = Token.objects.filter(user=user).delete()
        if deleted:
            audit.log("auth.tokens_revoked", user, actor=actor, reason=reason, new={"tokens": deleted})
    return deleted


_UNREAD = object()


def access_refusal(user, lock_ends=_UNREAD):
    """Why `user` may not act through any credential right now (None when they may): the
    checks an API token and a signature share with the sign-in page. `lock_ends`: when the
    sign-in lock ends (None: not locked), if the caller has read it already (core.esign)."""
    if not user.is_active:
        return _("This account is deactivated.")
    if getattr(user, "password_expired", False):
        return _("Your password has expired. Choose a new one to continue.")
    until = locked_until(user.get_username()) if lock_ends is _UNREAD else lock_ends
    if until is not None:
        return lock_message(until)
    return None


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        # DRF's TokenAuthentication.authenticate_credentials (its refusals, its words), the user read with the
        # registered facts (core.access.read_user) instead of joined to the token
        model = self.get_model()
        token = model.objects.filter(key=key).first()
        user = read_user(get_user_model()._default_manager, token.user_id) if token is not None else None
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token.user = user
        if token_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed(_("The token has expired; request a new one."))
        refusal = access_refusal(user)
        if refusal:
            raise exceptions.AuthenticationFailed(refusal)
        return user, token
