"""The demo seeds P3 corrective actions in different states, made on form QR-QA-004 and
run under procedure QP-QA-05 (the documents the seed issues)."""
import pytest
from django.core.management import call_command

from procedures.capa.models import CapaCase, CapaStatus

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_corrective_actions_bound_to_their_form_and_procedure(db, monkeypatch):
    from p3_support import skip_rendering

    skip_rendering(monkeypatch)
    call_command("seed_demo")
    cases = {c.source: c for c in CapaCase.objects.select_related("record__process")}
    assert cases["audit_finding"].status == CapaStatus.DESCRIBE
    assert cases["internal_nc"].status == CapaStatus.IMPLEMENTATION
    assert sorted(a.owner.username for a in cases["internal_nc"].actions.all()) == ["engineering", "production"]
    record = cases["internal_nc"].record
    assert (record.form_code, record.form_revision) == ("QR-QA-004", "A/0")
    assert record.process.procedure_revision.revision.document.number == "QP-QA-05"
    call_command("seed_demo")  # idempotent: P3's two, and the one the P5 demo raises from a requirement
    assert sorted(CapaCase.objects.values_list("source", flat=True)) == ["audit_finding", "customer_requirement",
                                                                         "internal_nc"]


@pytest.mark.django_db(transaction=True)  # committed, as in `manage.py seed_demo`: notifications go out on commit
def test_seeding_keeps_the_in_app_notifications_and_prints_no_mail(monkeypatch, settings, capsys):
    from django.core import mail

    from inbox.models import Notification
    from p3_support import skip_rendering

    skip_rendering(monkeypatch)
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # as in the demo
    outbox = mail.outbox

    call_command("seed_demo")

    out = capsys.readouterr().out
    assert "Subject:" not in out
    assert "notification e-mails were composed while seeding and not sent" in out
    assert Notification.objects.filter(recipient__username="production").exists()
    assert mail.outbox is outbox and outbox == []  # the test runner's outbox is given back untouched
