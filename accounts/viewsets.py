from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset

from . import views


class DelegationsViewset(AppMenuMixin, Viewset):
    """Absences and substitutes (everyone with a department role), and the open tasks
    of a manager's departments with their reassignment."""

    app_name = "delegations"
    title = _("Absences and delegation")
    icon = "event_busy"

    def has_view_permission(self, user, obj=None):
        from core.access import can_view_processes

        return can_view_processes(user)

    @property
    def index_path(self):
        return path("", views.index, name="index")

    @property
    def cancel_path(self):
        return path("<int:pk>/cancel/", views.cancel, name="cancel")

    @property
    def team_tasks_path(self):
        return path("tasks/", views.team_tasks, name="team_tasks")

    @property
    def reassign_path(self):
        return path("tasks/<int:task_pk>/reassign/", views.reassign, name="reassign")
