from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class FormsConfig(AppConfig):
    name = "forms"
    label = "forms"
    verbose_name = _("Controlled record types")

    def ready(self):
        from . import record_types  # noqa: F401  (registers the record types)

        from .defaults import seed_default_disposition_rules

        post_migrate.connect(seed_default_disposition_rules, sender=self, dispatch_uid="forms.seed_default_disposition_rules")
