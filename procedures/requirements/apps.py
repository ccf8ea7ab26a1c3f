from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequirementsConfig(AppConfig):
    """P5 customer requirement management."""

    name = "procedures.requirements"
    label = "requirements"
    verbose_name = _("Customer requirement management")

    def ready(self):
        from core import registry

        from . import records
        from .flows import RequirementChangeFlow, RequirementFlow

        records.register_statuses()
        registry.register_procedure(registry.Procedure(
            label=self.label, flows=(RequirementFlow, RequirementChangeFlow), icon="record_voice_over", order=50,
            seed_order=50,
            api="procedures.requirements.api", seed="procedures.requirements.seed.seed",
            viewsets=("procedures.requirements.viewsets.RequirementsViewset",
                      "procedures.requirements.link_views.RequirementLinksViewset"),
        ))
