"""SIG-1: a Celery beat job runs the system verification nightly; on failure the
quality managers are e-mailed; both outcomes are audited."""
import pytest
from django.conf import settings
from django.core import mail

from core.models import AuditEntry, Signature
from evidence.tasks import nightly_verification
from evidence_support import record  # noqa: F401  (fixture)
from test_integrity import tamper

pytestmark = pytest.mark.django_db


def test_the_nightly_job_is_scheduled():
    jobs = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "evidence.tasks.nightly_verification" in jobs


def test_a_clean_system_sends_no_alert(record):
    assert nightly_verification.delay() is not None
    assert mail.outbox == []
    assert AuditEntry.objects.filter(action="verification.passed").count() == 1


def test_tampering_is_reported_to_the_quality_managers(record, people):
    signature = Signature.objects.filter(meaning="approved").get()
    tamper("UPDATE core_signature SET printed_name = %s WHERE id = %s", ["Mallory", signature.pk])
    nightly_verification.delay()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [people["quality_mgr"].email]
    assert f"FAIL signature #{signature.pk}" in message.body and "the signature itself was altered" in message.body
    entry = AuditEntry.objects.get(action="verification.failed")
    assert entry.new_values["alerted"] == [people["quality_mgr"].email]
    assert any(f"signature #{signature.pk}" in p for p in entry.new_values["problems"])
