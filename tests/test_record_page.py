"""Issue 13 item 3: a record page an auditor can read. The record's content first (what its PDF
prints), versions with their reasons, changes named with the record type's field labels and list
items matched by their keys (a department's review with the same department's review), the audit
trail in sentences with the system's actions credited to the system, and "changed after its first
signature" only when a signed value was changed or removed."""
import re

import pytest
from django.test import Client
from django.utils import translation
from evidence_support import approved_order, make_auditor
from p1_driver import review_all, start
from rest_framework.test import APIClient

from accounts.models import scheduler_user
from core import diffs, records
from core.models import AuditEntry, Record

pytestmark = pytest.mark.django_db

RAW = re.compile(r"\[\d+\]|\{'|\{&#x27;|&#x27;:|\w+_\w+\.\w+")  # rounds[0], dict dumps, record.version_created


@pytest.fixture
def order(people, order_data):
    return approved_order(people, order_data)


def page(user, number, language="en"):
    client = Client()
    client.force_login(user)
    return client.get(f"/qms/records/{number}/", HTTP_ACCEPT_LANGUAGE=language)


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_shows_the_content_as_the_pdf_prints_it_then_labelled_history_and_no_raw_keys(order, people):
    response = page(people["quality"], order.number)
    html = response.content.decode()
    assert response.status_code == 200
    # the content, from the record type's PDF template: its bilingual labels and the data, first
    content = html.index('id="content"')
    assert content < html.index('id="signatures"') < html.index('id="versions"') < html.index('id="audit"')
    assert "订单日期 Order date" in html[content:] and "PO-EV-001" in html[content:]
    assert "电子签名清单" not in html  # the PDF's signature manifest: the page has its own table
    body = text_of(html[html.index('class="qms-page'):])
    assert not RAW.search(body), RAW.search(body)
    assert "rounds[" not in html and "reviews[" not in html
    assert len(html) < 60_000  # ~15 000 px of developer output before; now a page


def test_versions_say_why_in_the_readers_language_and_the_first_version_is_the_first_content(order, people):
    context = page(people["quality"], order.number, "zh-hans").context
    history = list(context["history"])
    assert history[0].initial and history[0].number == 1 and not history[0].created  # not a list of every field
    reasons = {entry.version.reason: entry.reason for entry in history}
    assert "品质部" in reasons["quality review, round 1"]  # the stored "quality" through Department
    with with_english():
        assert diffs.reason_text("materials review, round 2") == "Materials / Procurement review, round 2"
        assert diffs.reason_text("something new") == "something new"  # an unknown reason prints as stored
        assert diffs.reason_text("created") == "created"  # core.records' own reason for a first version
    with translation.override("zh-hans"):
        assert diffs.reason_text("created") == "创建"


def test_two_departments_reviews_do_not_appear_to_overwrite_each_other(order, people):
    spec = diffs.Spec.of(order.record_type)
    versions = {v.reason: v for v in order.versions.all()}
    quality, production = versions["quality review, round 1"], versions["production review, round 1"]
    changes = diffs.changes(quality.data, production.data, spec)
    assert changes, "the production review adds its opinion"
    assert all(change.kind == "added" for change in changes), [(c.label, c.old, c.new) for c in changes]
    with with_english():
        labels = [c.label for c in diffs.changes(quality.data, production.data, spec)]
    assert all("Production" in label and "Quality" not in label for label in labels), labels
    assert all(change.key.startswith("rounds[1].reviews[production].") for change in changes)


def with_english():
    from django.utils import translation

    return translation.override("en")


def test_changes_are_labelled_and_formatted(order, people):
    spec = diffs.Spec.of(order.record_type)
    last, before = order.versions.order_by("-version")[:2]
    with with_english():
        changes = {c.label: c for c in diffs.changes(before.data, last.data, spec)}
    assert changes["Approval › Decision"].new == "Approved"  # a code through its BilingualChoices
    assert changes["Status"].old == "Awaiting approval" and changes["Status"].new == "Approved"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", changes["Approval › Date"].new)  # a moment, local time
    with with_english():
        assert diffs.format_value(True) == "Yes" and diffs.format_value("2000", "number") == "2,000"
    with_zh = diffs.format_value(False)
    assert with_zh in ("否", "No")
    # every field of a P1 record has its label (a raw key would print as a readable key, still untranslated)
    for version in order.versions.all():
        assert diffs.unlabelled(version.data, spec) == [], version.version


def test_a_changed_line_is_matched_by_its_line_number():
    spec = diffs.Spec.of("order_review")
    before = {"lines": [{"position": 1, "quantity": "10", "product_code": "A"},
                        {"position": 2, "quantity": "20", "product_code": "B"}]}
    after = {"lines": [{"position": 2, "quantity": "25", "product_code": "B"}]}  # line 1 removed, line 2 changed
    with with_english():
        changes = {c.label: (c.kind, c.old, c.new) for c in diffs.changes(before, after, spec)}
    assert changes["Line 2 › Qty"] == ("changed", "20", "25")  # "Line {}" names an item of "lines"
    assert changes["Line 1 › Qty"] == ("removed", "10", "")
    assert not any(label.startswith("Line 2") and kind == "removed" for label, (kind, *_r) in changes.items())


def test_the_audit_trail_is_sentences_with_the_system_credited(order, people):
    response = page(people["quality"], order.number)
    lines = response.context["audit_lines"]
    assert lines
    for line in lines:
        assert "{" not in line.sentence and "'" not in line.what, line.sentence
        assert not line.what.startswith("recorded “"), line.action  # every action on a P1 record has its words
    by_action = {}
    for line in lines:
        by_action.setdefault(line.action, []).append(line)
    assert any(re.search(r"added version \d+", l.what) for l in by_action["record.version_created"])
    assert any(l.changes and l.changes[0][0] == "status" for l in by_action["record.status_changed"])
    # the PDF renderer writes without a person (actor None): the system
    rendered = by_action["record.rendered"]
    assert rendered and all(l.system and l.who == "System" for l in rendered)
    # "all reviews in" is the flow's own step: the system, not the person who started the process
    complete = next(v for v in order.versions.all() if v.reason == "reviews complete")
    assert complete.created_by == scheduler_user()
    entry = AuditEntry.objects.get(record=order, action="record.version_created",
                                   new_values__version=complete.version)
    assert diffs.who(entry) == ("System", True)
    html = response.content.decode()
    assert "李娜 Li Na" in html  # the starter is still named where she acted
    assert "{&#x27;" not in html and "{'" not in html


def test_a_stored_entry_without_an_actor_reads_as_the_system(order, people):
    entry = AuditEntry.objects.filter(record=order, actor__isnull=True).first()
    assert entry is not None
    line = diffs.describe(entry, order.record_type)
    assert line.system and line.who == "System"


def test_changed_after_first_signature_only_when_signed_content_changes(order, people):
    # a normal multi-signature P1 record: five departments sign, each adding its own review, then the approval
    assert order.versions.filter(signatures__isnull=False).distinct().count() == 6
    assert order.changed_after_first_signature() is False
    assert page(people["quality"], order.number).context["changed_after_signing"] is False
    # a real change of something a signature covered: the quality review's verdict
    data = order.get_version().data
    data["rounds"][0]["reviews"] = [dict(r, verdict="cannot_meet") if r["department"] == "quality" else r
                                    for r in data["rounds"][0]["reviews"]]
    records.add_version(order, actor=people["market"], data=data, reason="edited")
    order.refresh_from_db()
    assert order.changed_after_first_signature() is True
    html = page(people["quality"], order.number).content.decode()
    assert 'qms-badge--bad' in html[html.index('id="changed-after-signature"'):][:400]


def test_adding_after_a_signature_is_not_a_change_but_removing_is(order, people):
    data = order.get_version().data
    records.add_version(order, actor=people["market"], data={**data, "declined_reason": "补充 added"}, reason="x")
    order.refresh_from_db()
    assert order.changed_after_first_signature() is False
    records.add_version(order, actor=people["market"], data={**data, "special_requirements": ""}, reason="y")
    order.refresh_from_db()
    assert data["special_requirements"] and order.changed_after_first_signature() is True


def test_a_record_made_before_its_first_version_held_content_opens_with_that_empty_version(people):
    """Until 2026-12-01 every record began with an empty version 1 and its content came in version 2: such a
    record's page and history still say so (an auditor reads records years old)."""
    record = records.create_record("order_review", actor=people["market"], data={}, status="in_review")
    records.add_version(record, actor=people["market"], data={"order_number": "PO-OLD-1"}, reason="order received")
    history = list(page(people["quality"], record.number, "en").context["history"])
    assert history[0].created and history[0].number == 1 and not history[0].changes
    assert history[1].initial and not history[1].created
    assert "Created empty; its content follows in the next version." in text_of(
        page(people["quality"], record.number, "en").content.decode())
    api = APIClient()
    api.force_authenticate(make_auditor(people))
    body = api.get(f"/api/records/{record.pk}/history/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["versions"][0]["empty"] is True and body["versions"][1]["first_content"] is True


def test_the_history_api_gives_the_same_labels_and_sentences(order, people):
    auditor = make_auditor(people)
    api = APIClient()
    api.force_authenticate(auditor)
    body = api.get(f"/api/records/{order.pk}/history/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["changed_after_first_signature"] is False
    assert body["versions"][0]["empty"] is False and body["versions"][0]["first_content"] is True
    changes = [c for d in body["diffs"] for c in d["changes"]]
    assert changes and all(set(c) == {"field", "label", "old", "new", "kind"} for c in changes)
    assert any(c["label"] == "Review round 1 › Quality › Verdict" and c["new"] == "Can meet" for c in changes)
    assert not any(re.search(r"\[\d+\]", c["label"]) for c in changes)
    trail = body["audit"]
    assert trail and all(set(line) >= {"who", "what", "changes", "reason", "timestamp"} for line in trail)
    assert any(line["system"] and line["who"] == "System" for line in trail)
    audit = api.get(f"/api/records/{order.pk}/audit/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert all("sentence" in e and "who" in e for e in audit)


def test_a_capa_process_page_prints_no_dicts_and_no_false(people, monkeypatch):
    from drivers import ApiDriver
    from p3_support import API_START, raise_data, skip_rendering, walk_to_actions

    from procedures.capa.models import CapaCase

    skip_rendering(monkeypatch)
    drive = ApiDriver(start_url=API_START)
    pid = drive.start("quality", raise_data())
    walk_to_actions(drive, pid)
    case = CapaCase.objects.get(record__process_id=pid)
    client = Client()
    client.force_login(people["quality_mgr"])
    html = client.get(f"/qms/flows/capa/{pid}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="capa-process-data"' in html and case.record.number in html
    assert "{&#x27;" not in html and "{'" not in html
    assert not re.search(r">\s*(False|True|None)\s*<", html)
    assert "what happened" in html  # the 5W2H in words
    record_page = page(people["quality_mgr"], case.record.number).content.decode()
    assert "{&#x27;" not in record_page and not re.search(r">\s*(False|True)\s*<", record_page)
    assert Record.objects.get(pk=case.record_id).changed_after_first_signature() is False


def test_items_are_keyed_by_round_and_department_not_by_position(people, order_data):
    """The relay review stores the reviews sorted by department: a later department's review lands
    before an earlier one's. By position, "rounds[0].reviews[0]" would change owner at each step."""
    process = start(people["market"], order_data(number="PO-EV-002"))
    review_all(process, people)
    from procedures.order_review.models import order_review_of

    record = order_review_of(process).record
    record.refresh_from_db()
    spec = diffs.Spec.of(record.record_type)
    keys = set(diffs.leaves(record.get_version().data, spec))
    assert {f"rounds[1].reviews[{d}].verdict" for d in ("quality", "production", "engineering", "materials")} <= keys
    assert not any("#" in key for key in keys if key.startswith("rounds"))  # none fell back to its position
    for before, after in zip(record.versions.order_by("version"), record.versions.order_by("version")[1:]):
        for change in diffs.changes(before.data, after.data, spec):
            assert change.kind != "changed" or not change.key.startswith("rounds"), (after.reason, change)


def test_the_page_costs_the_same_queries_with_more_versions_and_audit_entries(order, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(people["quality"])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/qms/records/{order.number}/").status_code == 200
        return len(captured)

    data = order.get_version().data
    records.add_version(order, actor=people["market"], data={**data, "declined_reason": "note"}, reason="note")
    queries()  # warm the caches (content types, the session)
    before = queries()
    for n in range(4):  # four more versions, each with its audit entries
        records.add_version(order, actor=people["market"], data={**data, "declined_reason": f"note {n}"},
                            reason=f"note {n}")
    assert order.audit_entries.count() > 4
    assert queries() == before


def test_the_versions_and_the_trail_page_apart_each_keeping_the_other_s_page(order, people, monkeypatch):
    """The record page's two paged lists (the changes between versions, the audit trail) keep each other's page in
    the address: paging the trail does not send the versions back to their first page (the links were bare)."""
    from core.views import RecordDetailView

    monkeypatch.setattr(RecordDetailView, "history_per_page", 1)
    monkeypatch.setattr(RecordDetailView, "audit_per_page", 2)
    assert order.versions.count() >= 2 and order.audit_entries.count() >= 3
    client = Client()
    client.force_login(people["quality"])
    html = client.get(f"/qms/records/{order.number}/?history=2&audit=2", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="?history=2&amp;audit=3#audit"' in html and 'href="?history=1&amp;audit=2#versions"' in html
    assert 'aria-label="Pages: Audit trail"' in html and 'aria-label="Pages: Versions and what changed"' in html
    assert f"2 / {order.audit_entries.count() // 2 + order.audit_entries.count() % 2} ({order.audit_entries.count()})" \
        in html
