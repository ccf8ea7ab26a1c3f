from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import AppMenuMixin, Viewset

from core.access import can_view_processes

from . import delegation_views, services, views


class DashboardViewset(AppMenuMixin, Viewset):
    """My tasks, my queues, overdue, recently completed, the processes I started."""

    app_name = "dashboard"
    title = _("My dashboard")
    icon = "dashboard"

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated

    @property
    def index_path(self):
        return path("", views.dashboard, name="index")

    @property
    def started_path(self):  # every process I started, paged (the dashboard shows the newest)
        return path("started/", views.started, name="started")

    @property
    def task_path(self):
        return path("task/<int:pk>/", views.open_task, name="task")

    @property
    def process_path(self):
        return path("process/<int:pk>/", views.open_process, name="process")

    @property
    def claim_path(self):  # a queue row's "Claim and open" (POST)
        return path("task/<int:pk>/claim/", views.claim_and_open, name="claim")

    @property
    def release_path(self):  # the step page's "Release" (POST)
        return path("task/<int:pk>/release/", views.release, name="release")


class NotificationsViewset(AppMenuMixin, Viewset):
    app_name = "notifications"
    title = _("Notifications")
    icon = "notifications"

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated

    @property
    def index_path(self):
        return path("", views.notification_list, name="index")

    @property
    def read_path(self):
        return path("<int:pk>/read/", views.notification_read, name="read")

    @property
    def read_all_path(self):
        return path("read-all/", views.notification_read_all, name="read_all")

    @property
    def preferences_path(self):
        return path("preferences/", views.preferences, name="preferences")


class StepTargetsViewset(AppMenuMixin, Viewset):
    """Target durations, reminder and escalation timing, and the company calendar."""

    app_name = "targets"
    title = _("Due dates and calendar")
    icon = "event"

    def has_view_permission(self, user, obj=None):
        return services.can_edit_targets(user)

    @property
    def index_path(self):
        return path("", views.targets, name="index")


class DelegationsViewset(AppMenuMixin, Viewset):
    """Absences and substitutes (everyone with a department role), and the open tasks
    of a manager's departments with their reassignment."""

    app_name = "delegations"
    title = _("Absences and delegation")
    icon = "event_busy"

    def has_view_permission(self, user, obj=None):
        return can_view_processes(user)

    @property
    def index_path(self):
        return path("", delegation_views.index, name="index")

    @property
    def cancel_path(self):
        return path("<int:pk>/cancel/", delegation_views.cancel, name="cancel")

    @property
    def team_tasks_path(self):
        return path("tasks/", delegation_views.team_tasks, name="team_tasks")

    @property
    def reassign_path(self):
        return path("tasks/<int:task_pk>/reassign/", delegation_views.reassign, name="reassign")
