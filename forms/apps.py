from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FormsConfig(AppConfig):
    """What every controlled form shares: the step-form base, uploads, the PDF renderer and
    its base template, and the customers and products the records name."""

    name = "forms"
    label = "forms"
    verbose_name = _("Controlled forms")

    def ready(self):
        from core import registry

        from .pdf import render_html

        registry.set_record_renderer(render_html)  # the record page shows what the PDF prints
