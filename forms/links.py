"""One-time links (forms.models.OneTimeLink): someone without an account answers one
questionnaire once — a KANO study, a satisfaction survey.

- `issue_link()` makes a random token (secrets.token_urlsafe) and stores only its SHA-256;
  the token itself is shown once, to whoever sends it to the respondent.
- `lookup()` finds the link of a token for showing the questionnaire; `redeem()` spends it
  inside the transaction that saves the answers (the row is locked, so two submissions of
  the same link cannot both answer). Both refuse an unknown, expired, used or revoked link
  with a `LinkRefused` naming the reason.
- `revoke_link()` withdraws a link not used yet.
Issue, revocation and use are audited. `throttled()` limits how often one client may try
tokens on a public page."""
import datetime
import hashlib
import secrets

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.errors import DomainError, InvalidInput, WrongState

from .models import OneTimeLink

TOKEN_BYTES = 32
MAX_DAYS_VALID = 90

UNKNOWN, EXPIRED, USED, REVOKED, OPEN = "unknown", "expired", "used", "revoked", "open"


class LinkRefused(DomainError):
    """The link cannot be used: `reason` is UNKNOWN (404), EXPIRED, USED or REVOKED (410 Gone)."""

    status_code = 410

    def __init__(self, message, *, reason, link=None):
        super().__init__(message)
        self.reason = reason
        self.link = link
        if reason == UNKNOWN:
            self.status_code = 404


def token_hash(token):
    return hashlib.sha256((token or "").encode("utf-8")).hexdigest()


def state_of(link, now=None):
    """OPEN, USED, REVOKED or EXPIRED (in that order of precedence: a used link stays used)."""
    now = now or timezone.now()
    if link.used_at is not None:
        return USED
    if link.revoked_at is not None:
        return REVOKED
    if link.expires_at <= now:
        return EXPIRED
    return OPEN


def _refusal(link, state):
    if state == USED:
        return LinkRefused(_("This link has already been used: the answers were received, thank you."),
                           reason=USED, link=link)
    if state == REVOKED:
        return LinkRefused(_("This link has been withdrawn by the sender."), reason=REVOKED, link=link)
    return LinkRefused(_("This link expired on %(date)s.") % {
        "date": timezone.localtime(link.expires_at).strftime("%Y-%m-%d %H:%M")}, reason=EXPIRED, link=link)


def issue_link(purpose, object_id, label, customer, actor, days_valid, *, record=None):
    """A new link for `object_id` of `purpose`, valid `days_valid` days (1…90). Returns
    (link, token): the token is not stored and cannot be shown again."""
    errors = {}
    if not (label or "").strip():
        errors["label"] = [_("Name who the link is for.")]
    elif len(label.strip()) > 200:
        errors["label"] = [_("At most %(n)s characters.") % {"n": 200}]
    if not isinstance(days_valid, int) or isinstance(days_valid, bool) or not 1 <= days_valid <= MAX_DAYS_VALID:
        errors["days_valid"] = [_("Enter a whole number from %(min)s to %(max)s.") % {"min": 1, "max": MAX_DAYS_VALID}]
    if errors:
        raise InvalidInput(_("The link cannot be issued."), field_errors=errors)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = OneTimeLink.objects.create(
        token_sha256=token_hash(token), purpose=purpose, object_id=object_id, label=label.strip(),
        customer=customer, created_by=actor, expires_at=timezone.now() + datetime.timedelta(days=days_valid))
    audit.log("link.issued", link, actor=actor, record=record,
              new={"purpose": purpose, "object_id": object_id, "label": link.label,
                   "customer": customer.code if customer is not None else "", "expires_at": link.expires_at})
    return link, token


def lookup(token, purpose):
    """The open link of `token` (for showing the questionnaire), or LinkRefused."""
    link = OneTimeLink.objects.filter(token_sha256=token_hash(token), purpose=purpose).first()
    if link is None:
        raise LinkRefused(_("This link is not valid. Check that it was copied completely."), reason=UNKNOWN)
    state = state_of(link)
    if state != OPEN:
        raise _refusal(link, state)
    return link


def redeem(token, purpose, *, record=None):
    """Spend the link of `token` inside the caller's transaction (the answers are saved in
    it too): the row is locked first, so of two simultaneous submissions only one answers."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("redeem() must run inside the transaction that saves the answers")
    link = OneTimeLink.objects.select_for_update().filter(token_sha256=token_hash(token), purpose=purpose).first()
    if link is None:
        raise LinkRefused(_("This link is not valid. Check that it was copied completely."), reason=UNKNOWN)
    state = state_of(link)
    if state != OPEN:
        raise _refusal(link, state)
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    audit.log("link.used", link, actor=None, record=record,
              new={"purpose": purpose, "object_id": link.object_id, "label": link.label, "used_at": link.used_at})
    return link


def revoke_link(link, *, actor, reason="", record=None):
    """Withdraw a link that has not been used (a used one stays as the answer's evidence)."""
    link = OneTimeLink.objects.select_for_update().get(pk=link.pk)
    state = state_of(link)
    if state == USED:
        raise WrongState(_("This link has already been used."), current_state=USED)
    if state == REVOKED:
        raise WrongState(_("This link has already been withdrawn."), current_state=REVOKED)
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    audit.log("link.revoked", link, actor=actor, record=record, reason=reason,
              new={"purpose": link.purpose, "object_id": link.object_id, "label": link.label})
    return link


def client_address(request):
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def throttled(request, scope, *, limit=30, seconds=60):
    """Count one request of this client for `scope`; True once it made more than `limit`
    in the current window of `seconds` (a public page answers 429 then)."""
    key = f"links:{scope}:{client_address(request)}:{int(timezone.now().timestamp()) // seconds}"
    if cache.add(key, 1, timeout=seconds + 5):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds + 5)
        count = 1
    return count > limit
