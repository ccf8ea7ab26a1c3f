"""Audit of access-rights changes (SIG-14) and of logins (SIG-12)."""
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from axes.signals import user_locked_out
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver

from core import audit

from core.authentication import revoke_tokens
from .models import Membership, User


@receiver(post_save, sender=Membership)
def membership_granted(sender, instance, created, **kwargs):
    if created:
        with transaction.atomic():
            audit.log("access.granted", instance, actor=getattr(instance, "_actor", None),
                      new={"user": instance.user.username, "department": instance.department, "role": instance.role},
                      reason=getattr(instance, "_reason", ""))


@receiver(post_delete, sender=Membership)
def membership_revoked(sender, instance, **kwargs):
    with transaction.atomic():
        audit.log("access.revoked", instance, actor=getattr(instance, "_actor", None),
                  old={"user": instance.user.username, "department": instance.department, "role": instance.role},
                  reason=getattr(instance, "_reason", ""))


@receiver(post_init, sender=User)
def remember_activation(sender, instance, **kwargs):
    instance._loaded_is_active = instance.is_active


@receiver(post_save, sender=User)
def user_saved(sender, instance, created, update_fields=None, **kwargs):
    if created:
        with transaction.atomic():
            audit.log("user.created", instance, actor=getattr(instance, "_actor", None),
                      new={"username": instance.username, "printed_name": instance.printed_name,
                           "is_active": instance.is_active, "is_superuser": instance.is_superuser})
    elif getattr(instance, "_password", None) is not None:  # set_password() then save()
        with transaction.atomic():
            audit.log("user.password_changed", instance, actor=getattr(instance, "_actor", instance))
        revoke_tokens(instance, reason="password changed", actor=getattr(instance, "_actor", instance))
    if not created and instance.is_active != getattr(instance, "_loaded_is_active", instance.is_active):
        with transaction.atomic():
            audit.log("user.activation_changed", instance, actor=getattr(instance, "_actor", None),
                      old={"is_active": instance._loaded_is_active}, new={"is_active": instance.is_active})
        if not instance.is_active:
            revoke_tokens(instance, reason="account deactivated", actor=getattr(instance, "_actor", None))
    instance._loaded_is_active = instance.is_active


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
