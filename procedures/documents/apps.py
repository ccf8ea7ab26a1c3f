from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    """P4 control of documents and records. Its app label stays "procedures", the label it
    had before each procedure got its own app, so its tables and migrations are unchanged."""

    name = "procedures.documents"
    label = "procedures"
    verbose_name = _("Document control")

    def ready(self):
        from core import registry

        from . import binding, records, signals  # noqa: F401  (record types, process signals)
        from .defaults import seed_default_approval_rules
        from .flows import DocumentControlFlow

        records.register_statuses()
        registry.set_form_resolver(binding.form_in_force)
        registry.set_retention_resolver(binding.retention_years)
        registry.register_procedure(registry.Procedure(
            label=self.label, flows=(DocumentControlFlow,), icon="description", order=40, seed_order=0,
            api="procedures.documents.api", viewsets=("procedures.documents.viewsets.DocumentsViewset",),
            seed="procedures.documents.seed.seed",
        ))
        post_migrate.connect(seed_default_approval_rules, sender=self,
                             dispatch_uid="procedures.seed_default_approval_rules")
