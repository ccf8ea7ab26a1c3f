"""Issue 13 item 5, the auditor's home: where an auditor lands, every menu entry opening for them,
the document register read-only and within the grant's scope, grants managed on a page and by the
API (through evidence.grants, audited), and the demo's auditor."""
import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from core.models import AuditEntry, Record
from core.registry import procedures
from evidence import grants
from evidence.bundles import request_bundle
from evidence.models import AuditorGrant
from evidence_support import AUDITOR_PASSWORD, approved_order, make_auditor
from p4_support import draft, fire_timers, issue, register
from procedures.documents.models import Revision

pytestmark = pytest.mark.django_db


def client_of(user):
    client = Client()
    client.force_login(user)
    return client


def api_of(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def menu_links(html):
    """The hrefs of the page's menu (the drawer), in order."""
    start = html.index("vf-page__menu")
    return re.findall(r'href="(/[^"]*)"', html[start:html.index("</nav>", start)])


def content(html):
    """The page's content (<main>), without the menu."""
    start = html.index('<main class="vf-page__content">')
    return html[start:html.index("</main>", start)]


def content_links(html):
    """The hrefs of the page's content (<main>), query strings kept, &amp; undone."""
    start = html.index('<main class="vf-page__content">')
    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"#]*)"', html[start:html.index("</main>", start)])]


@pytest.fixture
def world(people, order_data):
    """An approved order review (record type order_review), a procedure in force (QP-MK-01, record type
    document_revision) and a work instruction still in review."""
    record = approved_order(people, order_data)
    process = register(people)
    issue(people, process, "A/0")
    fire_timers()
    pending = register(people, number="WI-PR-001", doc_type="work_instruction")
    draft(pending, people["market"], "draft")
    effective = Revision.objects.get(document__number="QP-MK-01")
    return {"record": record, "effective": effective, "effective_file": effective.files.get(),
            "pending": Revision.objects.get(document__number="WI-PR-001")}


def download_url(revision, file):
    return f"/qms/documents/{revision.document.number}/{revision.label}/files/{file.pk}/"


# --- 1. the landing page and the auditor's home -----------------------------------------------------------------


def test_an_auditor_lands_on_their_home_and_staff_on_their_dashboard(people):
    make_auditor(people)
    client = Client()
    response = client.post("/accounts/login/", {"username": "auditor", "password": AUDITOR_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/qms/auditor/" and response.status_code == 200
    assert 'id="auditor-home"' in response.content.decode()
    assert client_of(people["quality"]).get("/")["Location"] == "/qms/dashboard/"
    # the application's index (the site menu's "Quality management") is the landing page, no longer a redirect loop
    assert client_of(people["quality"]).get("/qms/")["Location"] == "/qms/dashboard/"
    assert client.get("/qms/")["Location"] == "/qms/auditor/"
    assert client_of(people["quality"]).get("/qms/auditor/").status_code == 403  # the home is an auditor's


def test_the_home_shows_the_grant_the_records_the_documents_and_the_own_bundles(people, world, settings):
    until = timezone.now() + datetime.timedelta(days=5)
    auditor = make_auditor(people, valid_until=until, record_types=["order_review", "document_revision"],
                           date_from=datetime.date(2026, 1, 1))
    mine = request_bundle(actor=auditor, records=Record.objects.filter(pk=world["record"].pk), title="mine")
    request_bundle(actor=people["quality_mgr"], records=Record.objects.filter(pk=world["record"].pk), title="not mine")
    html = client_of(auditor).get("/qms/auditor/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    grant = html[html.index('id="grant"'):html.index('id="records"')]
    assert "订单评审记录表" in grant and "文件修订审批记录" in grant  # record types by their titles
    assert "order_review" not in grant
    assert timezone.localtime(until).strftime("%Y-%m-%d %H:%M") in grant  # valid until
    assert "2026-01-01" in grant and "ISO 9001 surveillance audit 2026" in grant
    records = html[html.index('id="records"'):html.index('id="bundles"')]
    assert 'href="/qms/records/?type=order_review"' in records and 'href="/qms/records/?type=document_revision"' in records
    assert re.search(r'id="record-total">\s*3\s*<', records)  # one order review, two revision records
    assert 'href="/qms/documents/"' in records and 'href="/qms/documents/rules/approval-matrix/"' in records
    bundles = html[html.index('id="bundles"'):]
    assert f'href="/qms/evidence/bundles/{mine.pk}/"' in bundles
    assert bundles.count('href="/qms/evidence/bundles/') == 1  # someone else's bundle is not shown
    assert 'id="request-bundle" href="/qms/records/"' in bundles
    assert "<form" not in content(html)  # read-only: no form at all


def test_the_home_lists_the_bundles_page_by_page_at_a_constant_cost(people, world):
    auditor = make_auditor(people)
    client = client_of(auditor)

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/qms/auditor/").status_code == 200
        return len(queries)

    request_bundle(actor=auditor, records=Record.objects.filter(pk=world["record"].pk))
    few = cost()
    for _ in range(14):
        request_bundle(actor=auditor, records=Record.objects.filter(pk=world["record"].pk))
    assert cost() == few
    html = client.get("/qms/auditor/?page=2").content.decode()
    assert html.count('href="/qms/evidence/bundles/') == 5 and "2 / 2 (15)" in html


def test_an_auditor_without_a_current_grant_is_told_so_and_sees_nothing(people):
    auditor = make_auditor(people, valid_from=timezone.now() - datetime.timedelta(days=10),
                           valid_until=timezone.now() - datetime.timedelta(days=1))
    client = client_of(auditor)
    response = client.get("/")
    assert response.status_code == 200 and 'id="auditor-inactive"' in response.content.decode()
    assert "Expired" in response.content.decode() or "已到期" in response.content.decode()
    assert "/accounts/logout/" in response.content.decode()
    for url in ("/qms/auditor/", "/qms/records/", "/qms/documents/", "/qms/documents/rules/approval-matrix/"):
        assert client.get(url).status_code == 403, url


# --- 2. every menu entry opens for an auditor -------------------------------------------------------------------


def test_every_url_of_the_auditors_menu_and_home_opens(people, world):
    auditor = make_auditor(people)
    client = client_of(auditor)
    home = client.get("/qms/auditor/").content.decode()
    menu = menu_links(home)
    assert {"/qms/auditor/", "/qms/records/", "/qms/documents/", "/qms/evidence/"} <= set(menu)
    assert not {"/qms/inbox/", "/qms/queue/", "/qms/archive/", "/qms/dashboard/"} & set(menu)  # no tasks for an auditor
    assert not any(link.startswith("/qms/flows/") for link in menu)
    assert menu[0] == "/qms/auditor/"
    opened = {}
    for url in dict.fromkeys(menu + content_links(home)):
        response = client.get(url, follow=True)
        opened[url] = response.status_code
        if url != "/qms/":
            assert response.redirect_chain == [], (url, response.redirect_chain)
    assert set(opened.values()) == {200}, opened
    assert len(opened) >= 9
    # the menu of a staff member keeps the task lists, and has no auditor's home
    staff_menu = menu_links(client_of(people["quality"]).get("/qms/records/").content.decode())
    assert {"/qms/inbox/", "/qms/dashboard/"} <= set(staff_menu) and "/qms/auditor/" not in staff_menu


def test_the_document_pages_open_read_only_for_an_auditor(people, world):
    auditor = make_auditor(people)
    client = client_of(auditor)
    register_page = client.get("/qms/documents/").content.decode()
    detail = client.get("/qms/documents/QP-MK-01/").content.decode()
    matrix = client.get("/qms/documents/rules/approval-matrix/")
    assert matrix.status_code == 200 and "<form" not in content(matrix.content.decode())
    for page in (register_page, detail):
        assert "/qms/flows/" not in page  # no change request, no registration, no flow chart
    assert download_url(world["effective"], world["effective_file"]) in register_page
    links = content_links(detail)
    assert download_url(world["effective"], world["effective_file"]) in links
    assert f"/qms/records/{world['effective'].record.number}/" in links
    for url in links:
        assert client.get(url).status_code == 200, url
    assert client.get(download_url(world["effective"], world["effective_file"]))["Content-Type"] == "application/pdf"
    # a draft and its source are not for an auditor
    pending_file = world["pending"].files.get()
    assert client.get(download_url(world["pending"], pending_file)).status_code == 404
    # and an auditor writes nothing: the matrix and the document flow refuse them
    rule_post = client.post("/qms/documents/rules/approval-matrix/", {"rule": 1, "r1-reason": "x"})
    assert rule_post.status_code == 403
    assert client.get("/qms/flows/documentcontrol/start/").status_code == 403


def test_the_document_pages_respect_the_grants_record_types(people, world):
    """A revision is a record (document_revision): an auditor whose grant leaves that type out sees the
    register and the pages, but neither the revision's record nor its PDF."""
    narrow = make_auditor(people, "auditor_orders", record_types=["order_review"])
    client = client_of(narrow)
    assert client.get("/qms/documents/").status_code == 200
    register_page = client.get("/qms/documents/").content.decode()
    detail = client.get("/qms/documents/QP-MK-01/").content.decode()
    url = download_url(world["effective"], world["effective_file"])
    assert url not in register_page and url not in detail
    number = world["effective"].record.number
    assert number in detail and f"/qms/records/{number}/" not in detail  # named, not linked
    assert client.get(url).status_code == 404
    assert client.get(f"/qms/records/{number}/").status_code == 404
    # the same pages for a member are unchanged: the PDF and the record linked, the change request offered
    member = client_of(people["production"]).get("/qms/documents/QP-MK-01/").content.decode()
    assert url in member and f"/qms/records/{number}/" in member and "/qms/flows/documentcontrol/start/" in member


def test_the_register_costs_the_same_for_an_auditor_whatever_its_length(people):
    auditor = make_auditor(people)
    client = client_of(auditor)

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/qms/documents/").status_code == 200
        return len(queries)

    for number in ("QP-MK-01", "QP-MK-02"):
        issue(people, register(people, number=number), "A/0")
    fire_timers()
    few = cost()
    for number in ("QP-MK-03", "QP-MK-04", "QP-MK-05"):
        issue(people, register(people, number=number), "A/0")
    fire_timers()
    assert cost() == few


# --- 3. grants on a page ---------------------------------------------------------------------------------------


def _grant_form(grantee, **changes):
    now = timezone.localtime()
    return {"user": grantee.pk, "valid_from": now.strftime("%Y-%m-%dT%H:%M"),
            "valid_until": (now + datetime.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
            "record_types": ["order_review"], "date_from": "", "date_to": "", "reason": "外审 external audit",
            **changes}


def test_an_administrator_grants_changes_revokes_and_ends_the_role_on_the_page(people, settings):
    admin = client_of(people["admin"])
    visitor = User.objects.create_user("visitor", password=AUDITOR_PASSWORD, display_name="访客 Visitor")
    page = admin.get("/qms/auditor-grants/new/").content.decode()
    assert 'value="order_review"' in page and "订单评审记录表" in page  # chosen from a list, shown by title
    assert f'value="{people["quality"].pk}"' not in page  # a department member is not offered
    response = admin.post("/qms/auditor-grants/new/", _grant_form(visitor))
    grant = AuditorGrant.objects.get(user=visitor)
    assert response.status_code == 302 and response["Location"] == f"/qms/auditor-grants/{grant.pk}/"
    assert grant.record_types == ["order_review"] and grant.granted_by == people["admin"]
    listing = admin.get("/qms/auditor-grants/").content.decode()
    assert "访客 Visitor" in listing and "订单评审记录表" in listing and "有效" in listing

    detail = f"/qms/auditor-grants/{grant.pk}/"
    change = {"valid_from": timezone.localtime(grant.valid_from).strftime("%Y-%m-%dT%H:%M"),
              "valid_until": timezone.localtime(grant.valid_until).strftime("%Y-%m-%dT%H:%M"),
              "record_types": ["order_review", "capa_report"], "date_from": "2026-01-01", "date_to": ""}
    assert admin.post(detail, {**change, "reason": ""}).status_code == 400  # a reason is required
    assert admin.post(detail, {**change, "reason": "扩大范围 wider scope"}).status_code == 302
    grant.refresh_from_db()
    assert grant.record_types == ["order_review", "capa_report"] and grant.date_from == datetime.date(2026, 1, 1)
    changed = AuditEntry.objects.get(action="access.auditor_changed", object_id=str(grant.pk))
    assert changed.reason == "扩大范围 wider scope" and set(changed.old_values) == {"record_types", "date_from"}
    history = admin.get(detail).content.decode()
    assert "纠正预防措施报告" in history and "扩大范围 wider scope" in history

    assert admin.post(f"{detail}revoke/", {"revoke-reason": ""}).status_code == 400
    assert admin.post(f"{detail}revoke/", {"revoke-reason": "审核结束 audit over"}).status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert admin.post(f"{detail}end-role/", {"end-reason": "入职 joins as staff"}).status_code == 302
    grant.refresh_from_db()
    assert grant.role_ended_at is not None
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="access.auditor_").order_by("seq")] == [
        "access.auditor_granted", "access.auditor_changed", "access.auditor_revoked", "access.auditor_role_ended"]
    assert admin.get(f"{detail}revoke/").status_code == 405


def test_the_grant_form_names_what_is_wrong(people):
    admin = client_of(people["admin"])
    visitor = User.objects.create_user("visitor", password=AUDITOR_PASSWORD, display_name="访客 Visitor")
    now = timezone.localtime()
    cases = {
        "record_types": {"record_types": ["order_review", "no_such_type"]},
        "valid_until": {"valid_until": (now - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")},
        "date_to": {"date_from": "2026-03-01", "date_to": "2026-02-01"},
        "reason": {"reason": ""},
        "user": {"user": people["quality"].pk},  # a department member
    }
    for field, change in cases.items():
        response = admin.post("/qms/auditor-grants/new/", _grant_form(visitor, **change))
        assert response.status_code == 400, field
        assert field in response.context["form"].errors, (field, response.context["form"].errors)
    message = admin.post("/qms/auditor-grants/new/", _grant_form(visitor, record_types=["no_such_type"]),
                         HTTP_ACCEPT_LANGUAGE="en").context["form"].errors["record_types"][0]
    assert "no_such_type" in message
    assert not AuditorGrant.objects.exists()


def test_the_grant_actions_themselves_refuse_an_unknown_record_type(people):
    """The rule lives in the action: the admin, the API, the page and any other caller get the same 400."""
    from core.errors import InvalidInput
    from core.models import AuditEntry

    visitor = User.objects.create_user("visitor", password=AUDITOR_PASSWORD)
    with pytest.raises(InvalidInput) as refused:
        grants.grant_auditor_access(visitor, granted_by=people["admin"], reason="x", record_types=["no_such_type"])
    assert refused.value.status_code == 400 and "no_such_type" in refused.value.field_errors["record_types"][0]
    assert not AuditorGrant.objects.exists()
    grant = grants.grant_auditor_access(visitor, granted_by=people["admin"], reason="x", record_types=["order_review"])
    with pytest.raises(InvalidInput) as refused:
        grants.change_auditor_access(grant, changed_by=people["admin"], reason="y",
                                     record_types=["order_review", "no_such_type"])
    assert "record_types" in refused.value.field_errors
    grant.refresh_from_db()
    assert grant.record_types == ["order_review"]
    assert not AuditEntry.objects.filter(action="access.auditor_changed").exists()


def test_only_an_administrator_opens_the_grants_page(people):
    grant = grants.grant_auditor_access(User.objects.create_user("visitor", password=AUDITOR_PASSWORD),
                                        granted_by=people["admin"], reason="x")
    auditor = make_auditor(people)
    urls = ["/qms/auditor-grants/", "/qms/auditor-grants/new/", f"/qms/auditor-grants/{grant.pk}/"]
    for user in (people["quality_mgr"], people["gm"], auditor):
        client = client_of(user)
        for url in urls:
            assert client.get(url).status_code == 403, (user, url)
        assert client.post(f"/qms/auditor-grants/{grant.pk}/revoke/", {"revoke-reason": "x"}).status_code == 403
    assert "/qms/auditor-grants/" not in menu_links(client_of(people["quality_mgr"]).get("/qms/records/").content.decode())
    assert "/qms/auditor-grants/" in menu_links(client_of(people["admin"]).get("/qms/records/").content.decode())
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_the_grants_page_lists_page_by_page_at_a_constant_cost(people):
    admin = client_of(people["admin"])

    def make(n, start):
        for i in range(start, start + n):
            user = User.objects.create_user(f"visitor{i}", password=AUDITOR_PASSWORD)
            grants.grant_auditor_access(user, granted_by=people["admin"], reason="x", record_types=["order_review"])

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert admin.get("/qms/auditor-grants/").status_code == 200
        return len(queries)

    make(3, 0)
    few = cost()
    make(27, 3)
    assert cost() == few
    html = admin.get("/qms/auditor-grants/?page=2").content.decode()
    assert len(re.findall(r'href="/qms/auditor-grants/\d+/"', html)) == 5 and "2 / 2 (30)" in html


# --- 3. grants by the API --------------------------------------------------------------------------------------


def test_an_administrator_manages_grants_through_the_api(people):
    api = api_of(people["admin"])
    User.objects.create_user("visitor", password=AUDITOR_PASSWORD, display_name="访客 Visitor")
    types = api.get("/api/auditor-grants/record-types/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert {"code": "order_review", "title": "Order Review Record Sheet"} in types
    until = (timezone.now() + datetime.timedelta(days=7)).isoformat()
    created = api.post("/api/auditor-grants/", {"user": "visitor", "valid_until": until, "record_types": ["order_review"],
                                                "reason": "外审 external audit"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["user"] == "visitor" and body["status"] == "active" and body["granted_by"] == "admin"
    assert body["record_types"] == [{"code": "order_review", "title": "订单评审记录表"}]
    pk = body["id"]
    listed = api.get("/api/auditor-grants/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == pk
    assert api.get("/api/auditor-grants/?status=revoked").json()["count"] == 0
    assert api.get("/api/auditor-grants/?status=active&user=visitor").json()["count"] == 1

    no_reason = api.patch(f"/api/auditor-grants/{pk}/", {"date_from": "2026-01-01"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    changed = api.patch(f"/api/auditor-grants/{pk}/", {"date_from": "2026-01-01", "valid_until": None,
                                                       "reason": "延期 extended"}, format="json")
    assert changed.status_code == 200 and changed.json()["date_from"] == "2026-01-01"
    assert changed.json()["valid_until"] is None
    entry = AuditEntry.objects.get(action="access.auditor_changed")
    assert entry.reason == "延期 extended" and set(entry.old_values) == {"date_from", "valid_until"}

    revoked = api.post(f"/api/auditor-grants/{pk}/revoke/", {"reason": "审核结束 audit over"}, format="json")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    ended = api.post(f"/api/auditor-grants/{pk}/end-role/", {"reason": "入职 joins as staff"}, format="json")
    assert ended.status_code == 200 and ended.json()["status"] == "role_ended"
    assert api.get("/api/auditor-grants/?status=role_ended").json()["count"] == 1
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="access.auditor_").order_by("seq")] == [
        "access.auditor_granted", "access.auditor_changed", "access.auditor_revoked", "access.auditor_role_ended"]


def test_the_api_names_what_is_wrong_in_a_grant(people):
    api = api_of(people["admin"])
    User.objects.create_user("visitor", password=AUDITOR_PASSWORD)
    now = timezone.now()
    cases = {
        "record_types": {"record_types": ["order_review", "no_such_type"]},
        "valid_until": {"valid_from": now.isoformat(), "valid_until": (now - datetime.timedelta(hours=1)).isoformat()},
        "date_to": {"date_from": "2026-03-01", "date_to": "2026-02-01"},
        "user": {"user": "quality"},  # a department member: an auditor is read-only everywhere
        "reason": {"reason": ""},
        "colour": {"colour": "red"},  # unknown fields are named
    }
    for field, change in cases.items():
        response = api.post("/api/auditor-grants/", {"user": "visitor", "reason": "x", **change}, format="json",
                            HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, (field, response.json())
        assert field in response.json()["errors"], (field, response.json())
    unknown = api.post("/api/auditor-grants/", {"user": "visitor", "reason": "x", "record_types": ["no_such_type"]},
                       format="json", HTTP_ACCEPT_LANGUAGE="en").json()["errors"]["record_types"]
    assert "Unknown record type: no_such_type" in str(unknown)
    assert api.post("/api/auditor-grants/", {"user": "nobody", "reason": "x"}, format="json").status_code == 400
    assert api.post("/api/auditor-grants/", "[1]", content_type="application/json").status_code == 400
    assert not AuditorGrant.objects.exists()
    grant = grants.grant_auditor_access(User.objects.get(username="visitor"), granted_by=people["admin"], reason="x")
    assert api.patch(f"/api/auditor-grants/{grant.pk}/", {"reason": "nothing"}, format="json").status_code == 400
    bad = api.patch(f"/api/auditor-grants/{grant.pk}/", {"record_types": ["no_such_type"], "reason": "x"}, format="json")
    assert bad.status_code == 400 and "record_types" in bad.json()["errors"]
    assert api.get("/api/auditor-grants/?status=whatever").status_code == 400


def test_no_one_but_an_administrator_manages_grants_by_api_and_an_auditor_writes_nothing(people):
    visitor = User.objects.create_user("visitor", password=AUDITOR_PASSWORD)
    grant = grants.grant_auditor_access(visitor, granted_by=people["admin"], reason="x")
    auditor = make_auditor(people)
    body = {"user": "visitor", "reason": "x"}
    for user in (people["quality_mgr"], people["gm"], people["market"], auditor):
        api = api_of(user)
        assert api.get("/api/auditor-grants/").status_code == 403, user
        assert api.get(f"/api/auditor-grants/{grant.pk}/").status_code == 403, user
        assert api.get("/api/auditor-grants/record-types/").status_code == 403, user
        assert api.post("/api/auditor-grants/", body, format="json").status_code == 403, user
        assert api.patch(f"/api/auditor-grants/{grant.pk}/", {"reason": "x", "date_from": "2026-01-01"},
                         format="json").status_code == 403, user
        assert api.post(f"/api/auditor-grants/{grant.pk}/revoke/", {"reason": "x"}, format="json").status_code == 403
        assert api.post(f"/api/auditor-grants/{grant.pk}/end-role/", {"reason": "x"},
                        format="json").status_code == 403
    refused = AuditEntry.objects.filter(action="auditor.refused", actor=auditor).count()
    assert refused == 4  # the auditor's four writes, refused as read-only and audited
    assert api_of(auditor).put(f"/api/auditor-grants/{grant.pk}/", {}, format="json").status_code in (403, 405)
    assert api_of(auditor).delete(f"/api/auditor-grants/{grant.pk}/").status_code in (403, 405)
    assert api_of(people["admin"]).delete(f"/api/auditor-grants/{grant.pk}/").status_code == 405
    assert Client().get("/api/auditor-grants/").status_code in (401, 403)
    grant.refresh_from_db()
    assert grant.revoked_at is None and grant.role_ended_at is None and AuditorGrant.objects.count() == 2


def test_the_admin_chooses_record_types_from_the_list_too(people):
    visitor = User.objects.create_user("visitor", password=AUDITOR_PASSWORD)
    grant = grants.grant_auditor_access(visitor, granted_by=people["admin"], reason="x", record_types=["capa_report"])
    page = client_of(people["admin"]).get(f"/admin/evidence/auditorgrant/{grant.pk}/change/").content.decode()
    assert re.search(r'<input type="checkbox" name="record_types" value="capa_report"[^>]*checked', page)
    assert "纠正预防措施报告" in page
    assert "纠正预防措施报告" in client_of(people["admin"]).get("/admin/evidence/auditorgrant/").content.decode()


# --- 4. the demo's auditor -------------------------------------------------------------------------------------


def test_the_demo_seeds_an_auditor_with_a_grant(people):
    from evidence import seed

    assert "evidence.seed.seed" in [procedure.seed for procedure in procedures()]  # what seed_demo runs
    said = seed.seed(people)
    assert said and "ext_auditor" in people
    auditor = User.objects.get(username="ext_auditor")
    assert not auditor.memberships.exists() and auditor.check_password("Demo-pass-2026")
    grant = AuditorGrant.objects.get(user=auditor)
    assert grant.is_active() and grant.valid_until > timezone.now() + datetime.timedelta(days=29)
    assert "order_review" in grant.record_types and grant.granted_by == people["admin"]
    assert AuditEntry.objects.filter(action="access.auditor_granted", object_id=str(grant.pk)).exists()
    assert seed.seed(people) is None and AuditorGrant.objects.count() == 1  # idempotent
    assert client_of(auditor).get("/")["Location"] == "/qms/auditor/"


def test_the_own_grants_and_a_grant_s_history_are_paged_nothing_cut(people, monkeypatch):
    """Issue 15.2, nothing silently cut: the auditor's home showed their first 20 grants and a grant's page the
    first 50 entries of its history, with no sign of the rest."""
    from evidence import views

    monkeypatch.setattr(views, "GRANTS_PAGE", 2)
    monkeypatch.setattr(views, "HISTORY_PAGE", 2)
    auditor = make_auditor(people)
    for n in range(2):  # three grants in all, the newest window last
        grants.grant_auditor_access(auditor, granted_by=people["admin"], reason=f"审核 audit {n}",
                                    valid_from=timezone.now() + datetime.timedelta(minutes=n))
    home = client_of(auditor)
    first = home.get("/qms/auditor/").content.decode()
    assert first.count("审核 audit") == 2 and "1 / 2 (3)" in first and 'href="?grants=2#grant"' in first
    second = home.get("/qms/auditor/?grants=2").content.decode()
    assert "审核 audit" not in second and "ISO 9001 surveillance audit 2026" in second

    grant = AuditorGrant.objects.filter(user=auditor).order_by("pk").first()
    for days in (6, 7):
        grants.change_auditor_access(grant, changed_by=people["admin"], reason=f"延长 extend {days}",
                                     valid_until=timezone.now() + datetime.timedelta(days=days))
    admin = client_of(people["admin"])
    detail = admin.get(f"/qms/auditor-grants/{grant.pk}/").content.decode()
    assert "延长 extend 6" in detail and "延长 extend 7" not in detail and "1 / 2 (3)" in detail
    assert 'href="?history=2#grant-history"' in detail
    last = admin.get(f"/qms/auditor-grants/{grant.pk}/?history=2").content.decode()
    assert "延长 extend 7" in last and "延长 extend 6" not in last
