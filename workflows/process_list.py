"""viewflow's list of a flow's processes (/qms/flows/<flow>/) with its column headers in the
reader's language: viewflow derives "Process id", "Brief" and "Active tasks" from method names,
which no catalogue translates."""
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.flow.views.dashboard import DashboardProcessListView
from viewflow.workflow.flow.viewset import FlowViewset

from .cancel import CancelProcessWithReasonView


class ProcessListView(DashboardProcessListView):
    def process_id(self, process):
        return super().process_id(process)

    process_id.short_description = _("Process No.")

    def brief(self, process):
        return process.brief

    brief.short_description = _("Summary")

    def active_tasks(self, process):
        return process.active_tasks_count

    active_tasks.short_description = _("Open tasks")


class QmsFlowViewset(FlowViewset):
    """A flow in the site menu, with the process list above; cancelling a process needs a reason."""

    process_list_view_class = ProcessListView
    process_cancel_view_class = CancelProcessWithReasonView
