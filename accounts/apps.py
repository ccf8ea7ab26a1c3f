from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and departments")

    def ready(self):
        from core.access import register_user_fact

        from . import signals  # noqa: F401
        from .backends import holds_model_permissions, membership_pairs_text, no_model_permissions, remember_memberships

        # read with the user (core.access.read_user): no query of their own on every request
        register_user_fact("model_permissions", holds_model_permissions, no_model_permissions)
        register_user_fact("memberships", membership_pairs_text, remember_memberships)
