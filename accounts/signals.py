"""Audit of access-rights changes (SIG-14) and of logins (SIG-12)."""
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from axes.signals import user_locked_out
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save
from django.dispatch import receiver

from core import audit
from core.context import current_actor

from core.authentication import revoke_tokens
from .models import Membership, User


def _actor(instance):
    """Who made the change: the one the caller named (`instance._actor`), else the signed-in person."""
    return getattr(instance, "_actor", None) or current_actor()


@receiver(post_init, sender=Membership)
def remember_membership(sender, instance, **kwargs):
    instance._loaded_role = (instance.user_id, instance.department, instance.role) if instance.pk else None


@receiver(post_save, sender=Membership)
def membership_granted(sender, instance, created, **kwargs):
    now = {"user": instance.user.username, "department": instance.department, "role": instance.role}
    loaded = getattr(instance, "_loaded_role", None)
    if created:
        with transaction.atomic():
            audit.log("access.granted", instance, actor=_actor(instance), new=now,
                      reason=getattr(instance, "_reason", ""))
    elif loaded is not None and loaded != (instance.user_id, instance.department, instance.role):
        # SIG-14: a membership edited in place (another department or role) is a grant and a revocation
        before = {"user": User.objects.get(pk=loaded[0]).username, "department": loaded[1], "role": loaded[2]}
        with transaction.atomic():
            audit.log("access.changed", instance, actor=_actor(instance), old=before, new=now,
                      reason=getattr(instance, "_reason", ""))
    instance._loaded_role = (instance.user_id, instance.department, instance.role)


@receiver(post_delete, sender=Membership)
def membership_revoked(sender, instance, **kwargs):
    with transaction.atomic():
        audit.log("access.revoked", instance, actor=_actor(instance),
                  old={"user": instance.user.username, "department": instance.department, "role": instance.role},
                  reason=getattr(instance, "_reason", ""))


# SIG-14 / SIG-10: what a change to a user's privileges or identity is audited with (old → new).
PRIVILEGE_FIELDS = ("is_superuser", "is_staff")
IDENTITY_FIELDS = ("display_name", "first_name", "last_name", "email")


def _snapshot(user):
    """The tracked fields that are loaded (a deferred field is not fetched for this)."""
    return {f: user.__dict__[f] for f in PRIVILEGE_FIELDS + IDENTITY_FIELDS if f in user.__dict__}


@receiver(post_init, sender=User)
def remember_activation(sender, instance, **kwargs):
    instance._loaded_is_active = instance.is_active
    instance._loaded_user = _snapshot(instance) if instance.pk else None


def _log_user_changes(instance):
    loaded = getattr(instance, "_loaded_user", None)
    if loaded is None:
        return
    now = _snapshot(instance)
    reason = getattr(instance, "_reason", "")
    for action, fields in (("user.privileges_changed", PRIVILEGE_FIELDS), ("user.identity_changed", IDENTITY_FIELDS)):
        fields = [f for f in fields if f in loaded and f in now]
        old, new = audit.changed_values({f: loaded[f] for f in fields}, {f: now[f] for f in fields})
        if new:
            audit.log(action, instance, actor=_actor(instance), old=old, new=new, reason=reason)


@receiver(post_save, sender=User)
def user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created:
        with transaction.atomic():
            audit.log("user.created", instance, actor=_actor(instance),
                      new={"username": instance.username, "printed_name": instance.printed_name,
                           "is_active": instance.is_active, "is_superuser": instance.is_superuser,
                           "is_staff": instance.is_staff})
    elif update_fields is None or set(update_fields) & set(PRIVILEGE_FIELDS + IDENTITY_FIELDS):
        with transaction.atomic():
            _log_user_changes(instance)
    if not created and getattr(instance, "_password", None) is not None:  # set_password() then save()
        with transaction.atomic():
            audit.log("user.password_changed", instance, actor=getattr(instance, "_actor", instance))
        revoke_tokens(instance, reason="password changed", actor=getattr(instance, "_actor", instance))
    if not created and instance.is_active != getattr(instance, "_loaded_is_active", instance.is_active):
        with transaction.atomic():
            audit.log("user.activation_changed", instance, actor=_actor(instance),
                      old={"is_active": instance._loaded_is_active}, new={"is_active": instance.is_active},
                      reason=getattr(instance, "_reason", ""))
        if not instance.is_active:
            revoke_tokens(instance, reason="account deactivated", actor=_actor(instance))
    instance._loaded_is_active = instance.is_active
    instance._loaded_user = _snapshot(instance)


# SIG-14: groups and permissions given to or taken from a user (either side of the relation), and the
# permissions of a group, are access rights: each change is audited with who, what and the reason.
def _perm_label(permission):
    return f"{permission.content_type.app_label}.{permission.codename}"


@receiver(m2m_changed, sender=User.groups.through)
def groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    _m2m_audit("group", instance, action, reverse, model, pk_set,
               users_of=lambda group, pks: User.objects.filter(pk__in=pks) if pks is not None else group.user_set.all(),
               label=lambda group: group.name)


@receiver(m2m_changed, sender=User.user_permissions.through)
def user_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    _m2m_audit("permission", instance, action, reverse, model, pk_set,
               users_of=lambda perm, pks: User.objects.filter(pk__in=pks) if pks is not None else perm.user_set.all(),
               label=_perm_label)


def _m2m_audit(kind, instance, action, reverse, model, pk_set, users_of, label):
    if action == "pre_clear":  # remember what a clear() is about to take away
        instance._m2m_cleared = (set(getattr(instance, "groups" if kind == "group" else "user_permissions")
                                     .values_list("pk", flat=True)) if not reverse
                                 else set(users_of(instance, None).values_list("pk", flat=True)))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        pk_set = getattr(instance, "_m2m_cleared", set())
    if not pk_set:
        return
    granted = action == "post_add"
    verb = "access.%s_%s" % (kind, "granted" if granted else "revoked")
    with transaction.atomic():
        if not reverse:  # user.groups.add(...): one entry for the user naming what changed
            names = sorted(label(obj) for obj in model.objects.filter(pk__in=pk_set))
            values = {"user": instance.username, kind + "s": names}
            audit.log(verb, instance, actor=_actor(instance), old=None if granted else values,
                      new=values if granted else None, reason=getattr(instance, "_reason", ""))
        else:  # group.user_set.add(...): one entry per user
            for user in User.objects.filter(pk__in=pk_set).order_by("pk"):
                values = {"user": user.username, kind + "s": [label(instance)]}
                audit.log(verb, user, actor=_actor(instance), old=None if granted else values,
                          new=values if granted else None, reason=getattr(instance, "_reason", ""))


@receiver(m2m_changed, sender=Group.permissions.through)
def group_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    if reverse or action not in ("pre_clear", "post_add", "post_remove", "post_clear"):
        return
    if action == "pre_clear":
        instance._m2m_cleared = set(instance.permissions.values_list("pk", flat=True))
        return
    if action == "post_clear":
        pk_set = getattr(instance, "_m2m_cleared", set())
    if not pk_set:
        return
    from django.contrib.auth.models import Permission

    names = sorted(_perm_label(p) for p in Permission.objects.filter(pk__in=pk_set).select_related("content_type"))
    values = {"group": instance.name, "permissions": names}
    granted = action == "post_add"
    with transaction.atomic():
        audit.log("access.group_permission_" + ("granted" if granted else "revoked"), instance,
                  actor=_actor(instance), old=None if granted else values, new=values if granted else None,
                  reason=getattr(instance, "_reason", ""))


@receiver(user_locked_out)
def locked_out(sender, request=None, username=None, **kwargs):
    """A login lock-out also ends the API tokens of that user name (SIG-12)."""
    user = User.objects.filter(username=username).first() if username else None
    if user is not None:
        revoke_tokens(user, reason="login locked out after repeated failures")


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs):
    with transaction.atomic():
        audit.log("auth.login", user, actor=user)


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs):
    with transaction.atomic():
        audit.log("auth.login_failed", ("auth.user", credentials.get("username", "")[:64], ""),
                  new={"username": credentials.get("username", "")})
