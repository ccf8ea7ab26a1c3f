from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SatisfactionConfig(AppConfig):
    """Customer satisfaction measurement (issue 17, ISO 9001 9.1.2): the satisfaction survey."""

    name = "procedures.satisfaction"
    label = "satisfaction"
    verbose_name = _("Customer satisfaction")

    def ready(self):
        from core import registry

        from . import records

        records.register_statuses()
        registry.register_procedure(registry.Procedure(
            label=self.label, flows=(), icon="sentiment_satisfied", order=55, seed_order=60,
            api="procedures.satisfaction.api", seed="procedures.satisfaction.seed.seed",
            viewsets=("procedures.satisfaction.viewsets.SatisfactionViewset",),
        ))
