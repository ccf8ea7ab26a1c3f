"""One way to tell a person something: `notify(user, kind, title, body, ...)`.

It honours the user's preferences for that kind (in-app row, e-mail), writes the text
in the user's language (User.preferred_language), and sends the e-mail only after the
transaction commits."""
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation

from core import audit
from core.rest.keyset import Key, Keyset

from .memo import call_memo, process_of
from .models import Notification, NotificationKind, NotificationPreference

#: the order of a person's notifications, paged by keyset: unread first, then newest
NOTIFICATION_ORDER = Keyset("notifications", [Key("read_at", nulls="first"), Key("created", descending=True),
                                               Key("pk", descending=True)])

# Channels a user has for a kind they never configured.
DEFAULTS = {kind: {"email": True, "in_app": True} for kind in NotificationKind.values}


def language_of(user):
    return getattr(user, "preferred_language", "") or settings.LANGUAGE_CODE


def preferences_of(user):
    """{kind: {"email": bool, "in_app": bool}} for every kind, defaults filled in."""
    prefs = {kind: dict(channels) for kind, channels in DEFAULTS.items()}
    for kind, email, in_app in NotificationPreference.objects.filter(user=user).values_list("kind", "email",
                                                                                             "in_app"):
        if kind in prefs:
            prefs[kind] = {"email": email, "in_app": in_app}
    return prefs


def set_preferences(user, changes):
    """Save {kind: {"email": bool, "in_app": bool}} for `user` (unknown kinds raise ValueError)."""
    unknown = set(changes) - set(NotificationKind.values)
    if unknown:
        raise ValueError(", ".join(sorted(unknown)))
    current = preferences_of(user)
    with transaction.atomic():
        for kind, channels in changes.items():
            merged = {**current[kind], **{k: bool(v) for k, v in channels.items() if k in ("email", "in_app")}}
            NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults=merged)
    return preferences_of(user)


def render(text, params):
    """`text` (a lazy translation with %(name)s placeholders) in the active language."""
    values = {key: str(value) for key, value in (params or {}).items()}
    return str(text) % values if values else str(text)


def _channels(user, kind, process):
    """{"email": bool, "in_app": bool} of `user` for `kind`; a person's preferences are read once
    per engine call on `process` (inbox.memo)."""
    memo = call_memo(process)
    if ("preferences", user.pk) not in memo:
        preload_preferences([user], process, memo)
    return memo["preferences", user.pk].get(kind) or DEFAULTS[kind]


def preload_preferences(users, process, memo=None):
    """Read the notification preferences of `users` in one query for the engine call on
    `process` (e.g. the owners of the tasks a fan-out is about to create)."""
    memo = call_memo(process) if memo is None else memo
    pks = {user.pk for user in users if user is not None and ("preferences", user.pk) not in memo}
    if not pks:
        return
    for pk in pks:
        memo["preferences", pk] = {}
    for user_id, kind, email, in_app in NotificationPreference.objects.filter(user_id__in=sorted(pks)).values_list(
            "user_id", "kind", "email", "in_app"):
        memo["preferences", user_id][kind] = {"email": email, "in_app": in_app}


def notify(user, kind, title, body="", params=None, *, link="", task=None, process=None):
    """Notify `user` of `kind` (a NotificationKind). `title` and `body` are lazy
    translations rendered with `params` in the user's language. Returns the in-app
    Notification or None. Call inside the transaction of the change it reports; inside an
    `audit.atomic()` block the row is written at the block's end (core.audit.insert_later): the
    Notification returned has its key from then on."""
    if user is None or not user.is_active:
        return None
    prefs = _channels(user, kind, process if process is not None else process_of(task))
    with translation.override(language_of(user)):
        subject, text = render(title, params), render(body, params)
    notification = None
    if prefs["in_app"]:
        notification = Notification(
            recipient=user, kind=kind, title=subject[:300], body=text, link=link,
            task=task, process_id=process.pk if process is not None else getattr(task, "process_id", None),
            created=timezone.now())
        # inside a step: written with its other new rows at its end (one INSERT for a fan-out's notices)
        audit.insert_later(notification)
    if prefs["email"] and user.email:
        url = settings.QMS.get("SITE_URL", "").rstrip("/") + link if link else ""
        message = "\n\n".join(part for part in (text, url) if part)
        transaction.on_commit(lambda: send_mail(subject, message, None, [user.email], fail_silently=True))
    return notification


def unread_count(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user, notification_id=None):
    """Mark one of `user`'s notifications (or all of them) read; returns how many changed.
    A notification of someone else counts as not found."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_id is not None:
        rows = rows.filter(pk=notification_id)
    return rows.update(read_at=timezone.now())
