"""SIG-5, SIG-16: the per-record view shows every version with its hash, the
field-level changes between versions, the signatures, the process steps (who,
when) and the audit trail, and says whether a signed value changed after its first
signature — in the browser and the API."""
import pytest
from django.test import Client
from rest_framework.test import APIClient

from evidence_support import auditor, record  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def test_the_record_page_shows_versions_diffs_signatures_steps_and_trail(record, auditor):
    client = Client()
    client.force_login(auditor)
    response = client.get(f"/qms/records/{record.number}/")
    assert response.status_code == 200
    context = response.context
    versions = context["versions"]
    assert [v.version for v in versions] == list(range(1, record.current_version + 1))
    html = response.content.decode()
    for v in versions:
        assert v.content_hash in html
    assert [v.version for v, _ in context["diffs"]] == list(range(2, record.current_version + 1))
    assert any(changes for _, changes in context["diffs"])
    assert 'id="diffs"' in html and 'id="steps"' in html and 'id="signatures"' in html and 'id="audit"' in html
    steps = context["steps"]
    assert {t.flow_task.name for t in steps} >= {"review_quality", "approve"}
    assert all(problems == [] for _, problems in context["signatures"])
    # SIG-16: the later versions of a normal multi-signature record only add (each department its review, then
    # the approval): nothing a signature covered changed (tests/test_record_page.py: what does count)
    assert record.current_version > min(s.record_version.version for s, _ in context["signatures"])
    assert context["changed_after_signing"] is False


def test_the_history_endpoint_gives_diffs_steps_and_the_signature_flag(record, auditor):
    api = APIClient()
    api.force_authenticate(auditor)
    body = api.get(f"/api/records/{record.pk}/history/").json()
    assert [v["version"] for v in body["versions"]] == list(range(1, record.current_version + 1))
    assert [(d["from"], d["to"]) for d in body["diffs"]] == [(v - 1, v) for v in range(2, record.current_version + 1)]
    changed = {c["field"] for d in body["diffs"] for c in d["changes"]}
    assert changed, "some field changes between versions"
    assert any(s["step"] == "approve" and s["owner"] for s in body["steps"])
    assert isinstance(body["changed_after_first_signature"], bool)


def test_outsiders_get_no_history(record, people):
    from accounts.models import User

    outsider = User.objects.create_user("outsider", password="Outsider-pass-1")
    api = APIClient()
    api.force_authenticate(outsider)
    assert api.get(f"/api/records/{record.pk}/history/").status_code == 404
