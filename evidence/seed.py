"""The demo's auditor (`manage.py seed_demo`): an external auditor's account, without department
membership, and a grant through evidence.grants (audited) for the next 30 days over this year's
records of the sales, complaint, corrective-action and document-control record types. Idempotent."""
import datetime

from django.utils import timezone

from accounts.models import User
from core import registry
from workflows.demo import DEMO_PASSWORD

from .grants import grant_auditor_access
from .models import AuditorGrant

USERNAME = "ext_auditor"
PRINTED_NAME = "郑洁 Zheng Jie"
RECORD_TYPES = ["order_review", "change_notice", "quality_feedback", "anomaly_report", "complaint_analysis",
                "capa_report", "document_revision"]


def seed(people):
    user = User.objects.filter(username=USERNAME).first()
    if user is None:
        user = User(username=USERNAME, display_name=PRINTED_NAME, email=f"{USERNAME}@demo.invalid",
                    preferred_language="zh-hans")
        user.set_password(DEMO_PASSWORD)
        user.save()
    people[USERNAME] = user
    if AuditorGrant.objects.filter(user=user).exists():
        return None
    known = {rt.code for rt in registry.all_types()}
    now = timezone.now()
    grant_auditor_access(user, granted_by=people["admin"],
                         reason="ISO 9001:2015 第三方监督审核 Third-party surveillance audit",
                         valid_from=now - datetime.timedelta(hours=1), valid_until=now + datetime.timedelta(days=30),
                         record_types=[code for code in RECORD_TYPES if code in known],
                         date_from=timezone.localdate().replace(month=1, day=1))
    return f"Seeded an external auditor ({USERNAME}) with read-only access for 30 days."
