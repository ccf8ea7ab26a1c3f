"""Status labels per record type: two record types may use one status code for different things ("approved"
of an order is final; "approved" of a document revision awaits its effective date), so the records list, the
record page and the API name each record's status as its own type does (core.registry.status_label)."""
import pytest
from django.db import models
from django.test import Client
from rest_framework.test import APIClient

from core import records, registry
from core.registry import RecordType

pytestmark = pytest.mark.django_db


class FirstStatus(models.TextChoices):
    SHARED = "shared_state", "Shared as the first type says"


class SecondStatus(models.TextChoices):
    SHARED = "shared_state", "Shared as the second type says"


@pytest.fixture
def two_types():
    """Two record types registered from this module, each with its own label for the same status code."""
    made = []
    for code, prefix, choices in (("labels_first", "LBA", FirstStatus), ("labels_second", "LBB", SecondStatus)):
        made.append(registry.register(RecordType(
            code=code, prefix=prefix, title_zh="标签测试", title_en=f"Label test {prefix}", form_code=f"QR-T-{prefix}",
            form_revision="A/0", pdf_template="none.html")))
        registry.register_status_labels(choices, record_types=[code])
    yield made
    for record_type in made:
        registry._REGISTRY.pop(record_type.code, None)
        registry._TYPE_MODULES.pop(record_type.code, None)
        registry._TYPE_STATUS_LABELS.pop(record_type.code, None)


def test_the_same_code_reads_as_each_record_types_own_label(two_types, people):
    first = records.create_record("labels_first", actor=people["market"], data={"a": 1}, status="shared_state")
    second = records.create_record("labels_second", actor=people["market"], data={"a": 1}, status="shared_state")
    assert str(registry.status_label("shared_state", "labels_first")) == "Shared as the first type says"
    assert str(registry.status_label("shared_state", two_types[1])) == "Shared as the second type says"
    client = Client()
    client.force_login(people["quality_mgr"])
    html = client.get("/qms/records/?q=", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = {number: html[html.index(f">{number}<"):][:1500] for number in (first.number, second.number)}
    assert "Shared as the first type says" in row[first.number].split("</tr>")[0]
    assert "Shared as the second type says" in row[second.number].split("</tr>")[0]
    api = APIClient()
    api.force_authenticate(people["quality_mgr"])
    listed = {r["number"]: r for r in api.get("/api/records/", HTTP_ACCEPT_LANGUAGE="en").json()["results"]}
    assert listed[first.number]["status_label"] == "Shared as the first type says"
    assert listed[second.number]["status_label"] == "Shared as the second type says"
    page = client.get(f"/qms/records/{second.number}/", HTTP_ACCEPT_LANGUAGE="en")
    assert str(page.context["status_text"]) == "Shared as the second type says"


def test_the_real_procedures_keep_their_own_approved(people):
    """"approved" is registered by P1 (an order's final approval) and by P4 (a revision awaiting its date)."""
    from django.utils import translation

    with translation.override("en"):
        order = str(registry.status_label("approved", "order_review"))
        revision = str(registry.status_label("approved", "document_revision"))
    assert order == "Approved" and revision == "Approved, awaiting effective date"


def test_without_record_types_the_labels_belong_to_the_calling_modules_types(people):
    """register_status_labels(choices) as the procedures call it: scoped to the record types its module registered."""
    record_type = registry.register(RecordType(code="labels_default", prefix="LBD", title_zh="标签", title_en="Labels",
                                               form_code="QR-T-LBD", form_revision="A/0", pdf_template="none.html"))
    try:
        registry.register_status_labels(SecondStatus)
        assert str(registry.status_label("shared_state", record_type)) == "Shared as the second type says"
        assert registry.status_label("no_such_state", record_type) == "no_such_state"
    finally:
        registry._REGISTRY.pop("labels_default", None)
        registry._TYPE_MODULES.pop("labels_default", None)
        registry._SCOPE_STATUS_LABELS.pop(__name__, None)


@pytest.mark.parametrize("record_type, code, zh, en", [
    ("production_plan", "issued", "已发布", "Issued"),
    ("production_plan", "superseded", "已被取代", "Superseded"),
    ("contract_ledger", "issued", "已发布", "Issued"),
    ("material_receipt", "received", "已入库", "Received"),
    ("change_notice", "rejected", "已驳回", "Rejected"),  # the notice's own word, not the order's approver's
    ("change_notice", "declined", "不接受", "Declined"),
])
def test_the_records_a_step_writes_beside_its_own_are_labelled_too(record_type, code, zh, en):
    """The registry showed a production plan "issued" and a material receipt "received" as codes, in both languages:
    their statuses were never registered (only the order's and the case's were)."""
    from django.utils import translation

    for language, label in (("zh-hans", zh), ("en", en)):
        with translation.override(language):
            assert str(registry.status_label(code, record_type)) == label
