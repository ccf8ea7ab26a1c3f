from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "procedures"
    verbose_name = _("Document control")

    def ready(self):
        from core import registry

        from . import binding, record_types, signals  # noqa: F401

        registry.set_form_resolver(binding.form_in_force)

        from .defaults import seed_default_approval_rules

        post_migrate.connect(seed_default_approval_rules, sender=self, dispatch_uid="procedures.seed_default_approval_rules")
