from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    """P2 complaints and returns, nonconforming product."""

    name = "procedures.complaints"
    label = "complaints"
    verbose_name = _("Complaints and returns")

    def ready(self):
        from core import registry
        from procedures.capa.signals import corrective_action_closed

        from . import actions, records
        from .defaults import seed_default_disposition_rules
        from .flows import ComplaintFlow

        records.register_statuses()
        registry.register_procedure(registry.Procedure(
            label=self.label, flows=(ComplaintFlow,), icon="report_problem", order=20, seed_order=10,
            api="procedures.complaints.api", seed="procedures.complaints.seed.seed",
        ))
        corrective_action_closed.connect(actions.corrective_action_closed, dispatch_uid="complaints.capa_closed")
        post_migrate.connect(seed_default_disposition_rules, sender=self,
                             dispatch_uid="complaints.seed_default_disposition_rules")
