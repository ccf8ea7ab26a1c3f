from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ManagementReviewConfig(AppConfig):
    """ISO 9001 9.3: the management-review input pack (CA-7)."""

    name = "procedures.management_review"
    label = "management_review"
    verbose_name = _("Management review")

    def ready(self):
        from core import registry

        from . import records
        from .flows import ManagementReviewFlow

        records.register_statuses()
        registry.register_procedure(registry.Procedure(
            label=self.label, flows=(ManagementReviewFlow,), icon="insights", order=70, seed_order=70,
            api="procedures.management_review.api",
            late_seed="procedures.management_review.seed.late_seed",
            viewsets=("procedures.management_review.viewsets.ManagementReviewViewset",),
        ))
