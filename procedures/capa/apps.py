from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CapaConfig(AppConfig):
    """P3 corrective and preventive action (8D)."""

    name = "procedures.capa"
    label = "capa"
    verbose_name = _("Corrective and preventive action")

    def ready(self):
        from core import registry

        from . import records
        from .actions import records_of_teams
        from .flows import CapaFlow

        records.register_statuses()
        registry.register_procedure(registry.Procedure(
            label=self.label, flows=(CapaFlow,), icon="build", order=30, seed_order=20,
            api="procedures.capa.api", seed="procedures.capa.seed.seed", team_records=records_of_teams,
        ))
