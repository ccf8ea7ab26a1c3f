"""The demo's management review (`manage.py seed_demo`, the late step: it reads the other
procedures' demo data): one input pack of the last six months up to today, compiled by the Quality manager,
signed by the Quality manager and the General Manager, with two decided actions waiting in their
owners' inboxes. Through the same actions as the browser and the API."""
import datetime

from django.utils import timezone

from workflows import actions
from workflows.demo import DEMO_PASSWORD, act_as

from .actions import previous_period
from .flows import ManagementReviewFlow
from .models import ManagementReview


def late_seed(users, password=DEMO_PASSWORD):
    """Idempotent: nothing if a pack exists. Returns a line for the seed command's output, or None."""
    if ManagementReview.objects.exists():
        return None
    end = timezone.localdate()  # the last six months up to today: the other procedures' demo data is recent
    start = previous_period(end, months=6)[0]
    node = ManagementReviewFlow.start
    process = actions.start_process(node, actor=users["quality_mgr"], form=node.make_form(
        data={"period_start": start.isoformat(), "period_end": end.isoformat()}, api=True))

    def act(step, username, data, meaning=None):
        act_as(users[username], process, step, data, meaning=meaning, password=password)

    act("sign_quality", "quality_mgr", {"comment": "输入齐全，提交评审 inputs complete for the review"}, "approved")
    act("sign_management", "gm", {"comment": "同意 agreed"}, "approved")
    today = end
    act("decide", "quality_mgr", {
        "conclusions": "质量体系运行有效；需降低外观类投诉 the QMS is effective; appearance complaints must come down",
        "actions": [
            {"description": "包装隔板改进并验证 improve and validate the packing separators",
             "owner": "production_mgr", "due_date": (today + datetime.timedelta(days=45)).isoformat()},
            {"description": "逾期文件定期评审清零 clear the overdue periodic document reviews",
             "owner": "quality", "due_date": (today + datetime.timedelta(days=30)).isoformat()},
        ]})
    return "Seeded a management-review input pack, signed, with two actions in their owners' inboxes."
