from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Workflows")

    def ready(self):
        from inbox.queues import register_task_actions

        from . import signals

        signals.connect()
        from .actions import claim_task, release_task

        register_task_actions(claim=claim_task, release=release_task)  # the lists' claim and release buttons
        from . import menu_links

        menu_links.install()  # viewflow's viewset reverse tags, remembering the menu's addresses
