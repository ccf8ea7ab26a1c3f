"""Hostile input through the API and the browser: every case answers a 4xx in the error
shape {"detail", "errors"} naming the field or parameter, never a 500, and stores
nothing. (tests/test_schema_fuzz.py generates such input for every operation; these are
the cases found by hand and by earlier fuzzing, each beside the input that is allowed.)"""
import datetime
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from viewflow.workflow.models import Process, Task

from inbox.models import Delegation
from api_driver import client_for, find_task, signature
from p1_driver import review_data
from core.models import AuditEntry, Record, RecordFile
from core.bounds import TEXT_MAX_LENGTH
from procedures.order_review.models import OrderReview
from inbox.models import CalendarDay
from procedures.documents.models import ApprovalRule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def counts():
    return {"records": Record.objects.count(), "processes": Process.objects.count(),
            "tasks": Task.objects.count(), "audit": AuditEntry.objects.count(),
            "orders": OrderReview.objects.count(), "calendar": CalendarDay.objects.count(),
            "absences": Delegation.objects.count()}


def refused(response, *names, status=400):
    """The response is a `status` in the project's error shape naming each of `names`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert "detail" in body and "errors" in body, body
    for name in names:
        assert name in body["errors"], (name, body)
    return body


def days(n):
    return (timezone.localdate() + datetime.timedelta(days=n)).isoformat()


@pytest.fixture
def market(people):
    return client_for("market")


@pytest.fixture
def quality_mgr(people):
    return client_for("quality_mgr")


# --- query parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize("path, parameter, allowed", [
    ("/api/records/", "q", "合同"), ("/api/records/", "signer", "quality"), ("/api/records/", "number", "OR-2026-0001"),
    ("/api/documents/", "owner", "market"), ("/api/documents/", "q", "程序"), ("/api/lots/", "number", "L1"),
    ("/api/lots/", "status", "on_hold"), ("/api/capas/", "status", "closed"), ("/api/tasks/", "due_before", "2027-01-01"),
    ("/api/notifications/", "unread", "1"), ("/api/calendar/", "year", "2027"),
])
def test_a_nul_byte_in_any_filter_is_refused_naming_the_parameter(quality_mgr, path, parameter, allowed):
    refused(quality_mgr.get(path, {parameter: "\x00"}), parameter)
    refused(quality_mgr.get(path, {parameter: allowed[:1] + "\x00" + allowed[1:]}), parameter)
    assert quality_mgr.get(path, {parameter: allowed}).status_code == 200


@pytest.mark.parametrize("year", ["0", "99999", "²", "-1", "2027x", "1" * 40])
def test_a_calendar_year_that_is_no_year_is_refused(quality_mgr, year):
    refused(quality_mgr.get("/api/calendar/", {"year": year}), "year")


def test_a_calendar_year_is_listed(quality_mgr):
    CalendarDay.objects.create(date=datetime.date(2027, 2, 8), kind="holiday")
    answer = quality_mgr.get("/api/calendar/?year=2027")
    assert answer.status_code == 200 and [d["date"] for d in answer.json()["days"]] == ["2027-02-08"]


@pytest.mark.parametrize("url, parameter", [
    ("/api/lots/?status=frozen", "status"), ("/api/documents/?status=zzz", "status"),
    ("/api/documents/?type=zzz", "type"), ("/api/records/?date_from=2026-13-01", "date_from"),
    ("/api/tasks/?queue=maybe", "queue"), ("/api/capas/?overdue=2", "overdue"),
    ("/api/records/?q=" + "x" * 300, "q"),
])
def test_a_filter_value_that_cannot_mean_anything_is_refused_not_ignored(quality_mgr, url, parameter):
    refused(quality_mgr.get(url), parameter)


@pytest.fixture
def order(market, order_data):
    response = market.post("/api/order-reviews/", order_data(), format="json")
    assert response.status_code == 201, response.content
    return Record.objects.get(number=response.json()["record"])


def test_a_record_pdf_version_that_is_no_number_or_an_unknown_kind_is_refused_and_queues_nothing(
        order, market, django_capture_on_commit_callbacks):
    for query, parameter in [("version=abc", "version"), ("version=0", "version"), ("version=²", "version"),
                             ("kind=zzz", "kind"), ("kind=%00", "kind")]:
        with django_capture_on_commit_callbacks() as queued:
            refused(market.get(f"/api/records/{order.pk}/pdf/?{query}"), parameter)
        assert queued == [], query
    assert market.get(f"/api/records/{order.pk}/pdf/?version=99").status_code == 404
    # the allowed request: no PDF yet (nothing is rendered before the commit), so one render is queued
    assert not RecordFile.objects.filter(record_version__record=order).exists()
    with django_capture_on_commit_callbacks() as queued:
        answer = market.get(f"/api/records/{order.pk}/pdf/?version=1&kind=pdfa")
    assert answer.status_code == 202 and len(queued) == 1


def test_the_record_pdf_endpoint_queues_through_forms_pdf_at_call_time(order, market, monkeypatch):
    """api.views asks forms.pdf for queue_render on each request: a test that stubs forms.pdf.queue_render while
    the API module is first imported must not leave the stub bound in it for the tests after (it did: the
    allowed request above then answered 202 and queued nothing)."""
    import forms.pdf

    asked = []
    monkeypatch.setattr(forms.pdf, "queue_render", asked.append)
    assert market.get(f"/api/records/{order.pk}/pdf/?version=1").status_code == 202
    assert [v.record_id for v in asked] == [order.pk]


@pytest.mark.parametrize("url", ["/api/records/{big}/", "/api/tasks/{big}/claim/", "/api/documents/1/files/{big}/",
                                 "/api/calendar/{big}/", "/api/processes/{big}/", "/api/tasks/{big}/draft/"])
def test_an_id_too_large_for_the_database_is_not_found(quality_mgr, url):
    big = "9" * 30
    answer = getattr(quality_mgr, "delete" if "calendar" in url else "get")(url.format(big=big))
    assert answer.status_code == 404
    assert quality_mgr.get("/api/records/999999999999999999/").status_code == 404  # 18 digits: looked up, not found


# --- the shape of the body -------------------------------------------------------------------------


POST_ENDPOINTS = ["/api/order-reviews/", "/api/order-reviews/change/", "/api/complaints/", "/api/capas/",
                  "/api/complaint-analyses/", "/api/documents/", "/api/me/delegations/", "/api/evidence/bundles/",
                  "/api/calendar/", "/api/auth/token/"]


@pytest.fixture
def targets(people):
    """A document and an open task to address the endpoints that take an id."""
    from flow_driver import start
    from p4_support import new_document_data
    from procedures.documents.models import Document
    from procedures.documents.flows import DocumentControlFlow

    start(DocumentControlFlow, "start_new", people["quality"], new_document_data("QP-QA-09"))
    task = Task.objects.filter(status="NEW", flow_task_type="HUMAN").order_by("pk").first()
    return {"task": task.pk, "document": Document.objects.get(number="QP-QA-09").pk}


@pytest.mark.parametrize("url", POST_ENDPOINTS + ["/api/tasks/{task}/complete/", "/api/tasks/{task}/reassign/",
                                                  "/api/documents/{document}/change-requests/"])
@pytest.mark.parametrize("body", ["[null, null]", '"text"', "42", "true", "null", "[]"])
def test_a_body_that_is_not_a_json_object_is_refused_on_every_post(targets, url, body):
    admin = client_for("admin")  # may address every task and document, so the body is what is refused
    url = url.format(**targets)
    before = counts()
    refused(admin.post(url, body, content_type="application/json"))
    assert counts() == before


def test_a_body_nested_100000_deep_is_refused(market):
    body = "[" * 100_000 + "]" * 100_000
    refused(market.post("/api/order-reviews/", body, content_type="application/json"), "body")
    deep = json.dumps({"kind": "order", "customer": json.loads("[" * 30 + "]" * 30)})
    refused(market.post("/api/order-reviews/", deep, content_type="application/json"), "body")


def test_a_multipart_payload_nested_too_deeply_is_refused(market):
    answer = market.post("/api/order-reviews/", {"payload": "[" * 50_000 + "]" * 50_000}, format="multipart")
    refused(answer, "payload")


def test_a_signature_that_is_not_an_object_is_refused_naming_it(people, market, order_data):
    from workflows.demo import DEMO_PASSWORD

    before = counts()
    for value in ["x", ["x"], 42, {"password": DEMO_PASSWORD, "meaning": ["requested"]}]:
        body = {"order": "OR-2026-0001", "category": "quantity", "reason": "r", "affected_departments": ["quality"],
                "customer_confirmed": True, "lines": [], "signature": value}
        refused(market.post("/api/order-reviews/change/", body, format="json"), "signature")
    assert counts() == before


def test_a_signature_of_the_wrong_shape_on_completion_is_refused(market, order):
    quality = client_for("quality")
    task = find_task(quality, order.process_id, "review_quality")
    assert quality.post(f"/api/tasks/{task['id']}/claim/").status_code == 200
    before = counts()
    for value in ["x", {"username": "quality", "password": "x", "meaning": "reviewed", "colour": "red"}]:
        answer = quality.post(f"/api/tasks/{task['id']}/complete/",
                              {"data": review_data("quality", verdict="can_meet"), "signature": value}, format="json")
        refused(answer, "signature")
    assert counts() == before
    answer = quality.post(f"/api/tasks/{task['id']}/complete/",
                          {"data": review_data("quality", verdict="can_meet"), "signature": signature("quality", "reviewed")},
                          format="json")
    assert answer.status_code == 200, answer.content


@pytest.mark.parametrize("nul_at", ["order_number", "customer", "lines.0.product", "key"])
def test_a_nul_byte_anywhere_in_the_body_is_refused_naming_the_field(market, order_data, nul_at):
    data = order_data()
    if nul_at == "lines.0.product":
        data["lines"][0]["product"] = "P-1001\x00"
        name = "lines[0].product"
    elif nul_at == "key":
        data["bad\x00key"] = "x"
        name = "bad\\0key"
    else:
        data[nul_at] += "\x00"
        name = nul_at
    before = counts()
    refused(market.post("/api/order-reviews/", data, format="json"), name)
    assert counts() == before


# --- unknown fields -------------------------------------------------------------------------------


def test_unknown_fields_are_refused_by_name_at_every_level(market, order_data):
    before = counts()
    data = order_data(colour="red")
    body = refused(market.post("/api/order-reviews/", data, format="json"), "colour")
    assert "colour" in body["errors"]["colour"][0]
    data = order_data()
    data["lines"][0]["discount"] = "5%"
    refused(market.post("/api/order-reviews/", data, format="json"), "lines[0].discount")
    refused(market.post("/api/me/delegations/", {"substitute": "market2", "starts_on": days(1), "ends_on": days(2),
                                                 "reason": "leave", "approved": True}, format="json"), "approved")
    assert counts() == before
    assert market.post("/api/order-reviews/", order_data(), format="json").status_code == 201


def test_a_value_of_the_wrong_shape_for_a_field_is_refused(market, order_data):
    before = counts()
    refused(market.post("/api/order-reviews/", order_data(order_number={"$gt": ""}), format="json"), "order_number")
    refused(market.post("/api/order-reviews/", order_data(order_number=["A", "B"]), format="json"), "order_number")
    refused(market.post("/api/order-reviews/", order_data(lines="P-1001"), format="json"), "lines")
    refused(market.post("/api/order-reviews/", order_data(lines=["P-1001"]), format="json"), "lines[0]")
    assert counts() == before


def test_unknown_fields_of_a_completion_are_refused(market, order):
    quality = client_for("quality")
    task = find_task(quality, order.process_id, "review_quality")
    quality.post(f"/api/tasks/{task['id']}/claim/")
    answer = quality.post(f"/api/tasks/{task['id']}/complete/", {"data": {"verdict": "can_meet", "grade": "A"},
                                                                 "signature": signature("quality", "reviewed")},
                          format="json")
    refused(answer, "grade")
    answer = quality.post(f"/api/tasks/{task['id']}/complete/", {"data": {"verdict": "can_meet"}, "sign": {}},
                          format="json")
    refused(answer, "sign")
    assert Task.objects.get(pk=task["id"]).status == "ASSIGNED"


# --- dates and free text ---------------------------------------------------------------------------


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(order_date="1800-01-01"), "order_date"),
    (lambda d: d.update(order_date="0001-01-01"), "order_date"),
    (lambda d: d.update(order_date="1999-12-31"), "order_date"),
    (lambda d: d["lines"][0].update(delivery_date="9999-12-31"), "lines[0].delivery_date"),
    (lambda d: d["lines"][1].update(delivery_date="0001-01-01"), "lines[1].delivery_date"),
    (lambda d: d.update(special_requirements="x" * 1_000_000), "special_requirements"),
    (lambda d: d.update(special_requirements="x" * (TEXT_MAX_LENGTH + 1)), "special_requirements"),
])
def test_business_dates_out_of_bounds_and_huge_free_text_are_refused(market, order_data, change, field):
    data = order_data()
    change(data)
    before = counts()
    body = refused(market.post("/api/order-reviews/", data, format="json"), field)
    assert counts() == before
    if "date" in field:
        assert "Enter a date from 2000-01-01 to" in body["errors"][field][0]


def test_dates_and_text_inside_the_bounds_are_accepted(market, order_data):
    data = order_data(order_date="2000-01-01", special_requirements="要求 " * (TEXT_MAX_LENGTH // 3))
    data["lines"][0]["delivery_date"] = days(4 * 365)
    assert market.post("/api/order-reviews/", data, format="json").status_code == 201


def test_the_future_bound_is_configurable(market, order_data, settings):
    settings.QMS = {**settings.QMS, "MAX_FUTURE_YEARS": 1}
    data = order_data()
    data["lines"][0]["delivery_date"] = days(2 * 365)
    refused(market.post("/api/order-reviews/", data, format="json"), "lines[0].delivery_date")
    settings.QMS = {**settings.QMS, "MAX_FUTURE_YEARS": 3}
    assert market.post("/api/order-reviews/", data, format="json").status_code == 201


def test_the_step_description_tells_the_bounds(market, order):
    quality = client_for("quality")
    task = find_task(quality, order.process_id, "review_quality")
    fields = {f["name"]: f for f in quality.get(f"/api/tasks/{task['id']}/").json()["form"]}
    assert fields["comment"]["max_length"] == TEXT_MAX_LENGTH


@pytest.mark.parametrize("starts_on, ends_on, field", [
    ("9999-12-01", "9999-12-31", "starts_on"), ("0001-01-01", "0001-01-02", "starts_on"),
])
def test_an_absence_in_year_1_or_9999_is_refused(market, starts_on, ends_on, field):
    before = counts()
    body = {"substitute": "market2", "starts_on": starts_on, "ends_on": ends_on, "reason": "年假 leave"}
    refused(market.post("/api/me/delegations/", body, format="json"), field)
    assert counts() == before
    body.update(starts_on=days(1), ends_on=days(3), reason="年假 leave " * 100)
    refused(market.post("/api/me/delegations/", body, format="json"), "reason")
    body.update(reason="年假 leave")
    assert market.post("/api/me/delegations/", body, format="json").status_code == 201


def test_a_calendar_name_over_100_characters_is_refused_naming_it(quality_mgr):
    before = counts()
    body = {"date": "2027-02-08", "kind": "holiday", "name_zh": "春节", "name_en": "S" * 101}
    refused(quality_mgr.post("/api/calendar/", body, format="json"), "name_en")
    refused(quality_mgr.post("/api/calendar/", {**body, "name_en": "Spring Festival", "date": "0001-01-01"},
                             format="json"), "date")
    refused(quality_mgr.post("/api/calendar/", {**body, "name_en": "Spring Festival", "year": 2027},
                             format="json"), "year")
    assert counts() == before
    answer = quality_mgr.post("/api/calendar/", {**body, "name_en": "S" * 100}, format="json")
    assert answer.status_code == 201 and CalendarDay.objects.get().name_en == "S" * 100


# --- approval rules: multipart and JSON PATCH ------------------------------------------------------


def test_a_multipart_patch_of_an_approval_rule_is_validated_like_json(people, quality_mgr):
    rule = ApprovalRule.objects.get(document_type="procedure")
    url = f"/api/approval-rules/{rule.pk}/"
    before = counts()
    refused(quality_mgr.patch(url, {"reviewing_departments": "null", "rejection_ends": "{}", "reason": "r"},
                              format="multipart"), "reviewing_departments", "rejection_ends")
    refused(quality_mgr.patch(url, {"reason": ["a", "b"], "approvals_needed": "many"}, format="json"),
            "reason", "approvals_needed")
    refused(quality_mgr.patch(url, "[1]", content_type="application/json"))
    refused(quality_mgr.patch(url, {"reason": "r", "document_type": "form"}, format="json"), "document_type")
    assert counts() == before
    answer = quality_mgr.patch(url, {"reviewing_departments": ["quality", "production"], "reason": "调整 adjust"},
                               format="multipart")
    assert answer.status_code == 200, answer.content
    rule.refresh_from_db()
    assert rule.reviewing_departments == ["production", "quality"]
    assert AuditEntry.objects.filter(action="document.approval_rule_changed").count() == 1


# --- evidence bundles -------------------------------------------------------------------------------


def test_an_evidence_bundle_request_with_ids_out_of_range_or_unknown_filters_is_refused(order, quality_mgr):
    from evidence.models import EvidenceBundle

    for body, name in [({"records": [9223372036854775808]}, "records"), ({"records": [-1]}, "records"),
                       ({"search": {"colour": "red"}}, "search"), ({"search": {"date_to": "soon"}}, "search"),
                       ({"records": [order.pk], "zip": True}, "zip")]:
        refused(quality_mgr.post("/api/evidence/bundles/", body, format="json"), name)
    assert EvidenceBundle.objects.count() == 0
    assert quality_mgr.post("/api/evidence/bundles/", {"records": [order.pk]}, format="json").status_code == 202


# --- too large a body, and the token rate ----------------------------------------------------------


def test_a_body_over_the_upload_limit_is_a_json_413(market, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    answer = market.post("/api/order-reviews/", {"special_requirements": "x" * 5000}, format="json")
    body = refused(answer, "body", status=413)
    assert answer["Content-Type"] == "application/json"
    assert "at most" in body["detail"]
    answer = market.post("/api/order-reviews/", {"payload": json.dumps({"special_requirements": "x" * 5000})},
                         format="multipart")
    refused(answer, "body", status=413)
    assert market.post("/api/order-reviews/", {"kind": "order"}, format="json").status_code == 400  # under it


@pytest.fixture
def auth_rate(settings):
    def set_rate(rate):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth": rate}}
        cache.clear()
    yield set_rate
    cache.clear()


def test_the_token_endpoint_is_rate_limited(people, auth_rate):
    from rest_framework.test import APIClient

    from workflows.demo import DEMO_PASSWORD

    auth_rate("3/min")
    client = APIClient()
    attempts = [client.post("/api/auth/token/", {"username": "market", "password": password}, format="json")
                for password in ["wrong-1", DEMO_PASSWORD, "wrong-2"]]
    assert [a.status_code for a in attempts] == [400, 200, 400]
    throttled = client.post("/api/auth/token/", {"username": "market", "password": DEMO_PASSWORD}, format="json")
    assert throttled.status_code == 429 and "Retry-After" in throttled


def test_the_token_endpoint_refuses_unknown_fields(people):
    from rest_framework.test import APIClient

    answer = APIClient().post("/api/auth/token/", {"username": "market", "password": "x", "otp": "1"}, format="json")
    refused(answer, "otp")


# --- file names of downloads -----------------------------------------------------------------------


def test_a_chinese_file_name_is_sent_as_rfc_6266_with_an_ascii_fallback(people):
    from rest_framework.test import APIClient

    from flow_driver import act
    from p4_support import fire_timers, pdf_upload, register, review_all, PROCEDURE_REVIEWERS
    from procedures.documents.models import Document, RevisionFile

    process = register(people, "QP-MK-01")
    act(process, "edit", people["market"], {"outcome": "submit", "change_summary": "初版", "effective_date": days(0)},
        files={"pdf": [pdf_upload("初版", name="客户需求管理程序.pdf")]}, meaning="authored")
    review_all(process, people, PROCEDURE_REVIEWERS)
    act(process, "approve", people["gm"], {"effective_date": days(0)}, meaning="approved")
    fire_timers()
    document = Document.objects.get(number="QP-MK-01")
    file = RevisionFile.objects.get(revision__document=document, kind="controlled")
    expected = ("inline; filename=\"QP-MK-01-A-0-.pdf\"; "
                "filename*=UTF-8''QP-MK-01-A-0-%E5%AE%A2%E6%88%B7%E9%9C%80%E6%B1%82%E7%AE%A1%E7%90%86%E7%A8%8B%E5%BA%8F.pdf")
    browser = Client()
    browser.force_login(people["warehouse"])
    page = browser.get(f"/qms/documents/QP-MK-01/{file.revision.label}/files/{file.pk}/")
    assert page.status_code == 200 and page["Content-Disposition"] == expected
    api = APIClient()
    api.force_authenticate(people["warehouse"])
    answer = api.get(f"/api/documents/{document.pk}/files/{file.pk}/")
    assert answer.status_code == 200 and answer["Content-Disposition"] == expected
    assert "=?utf-8?" not in answer.serialize_headers().decode("ascii")


def test_a_record_pdf_keeps_its_plain_ascii_name(order, market):
    from django.core.files.base import ContentFile

    version = order.versions.get(version=order.current_version)
    RecordFile.objects.create(record_version=version, kind="pdf", sha256="0" * 64, size=4,
                              file=ContentFile(b"%PDF", name="x.pdf"))
    answer = market.get(f"/api/records/{order.pk}/pdf/")
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == f'inline; filename="{order.number}-v{version.version}.pdf"'


@pytest.mark.parametrize("name, attachment, header", [
    ("evidence-bundle-7.zip", True, 'attachment; filename="evidence-bundle-7.zip"'),
    ("合同.pdf", False, "inline; filename=\"download.pdf\"; filename*=UTF-8''%E5%90%88%E5%90%8C.pdf"),
    ('résumé "v2".docx', True, "attachment; filename=\"resume _v2.docx\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22v2%22.docx"),
    ("a\r\nSet-Cookie: x.pdf", False, 'inline; filename="a  Set-Cookie_ x.pdf"; filename*=UTF-8\'\'a%20%20Set-Cookie%3A%20x.pdf'),
])
def test_every_download_names_its_file_the_same_way(name, attachment, header):
    from core.downloads import content_disposition

    assert content_disposition(name, attachment=attachment) == header
    assert header.isascii() and "\n" not in header


# --- NUL in the browser -----------------------------------------------------------------------------


def test_a_nul_byte_in_a_browser_form_is_a_field_error_not_a_server_error(people, order_data):
    browser = Client()
    browser.force_login(people["market"])
    data = order_data()
    post = {key: value for key, value in data.items() if key != "lines"}
    post.update({"customer": "C001\x00", "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0",
                 "lines-0-product": "P-1001\x00", "lines-0-quantity": "5", "lines-0-delivery_date": days(30)})
    before = counts()
    page = browser.post("/qms/flows/orderreview/start/", post)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.error_dict()["customer"][0] == "Null characters are not allowed."
    assert form.error_dict()["lines[0].product"][0] == "Null characters are not allowed."
    assert counts() == before


@pytest.mark.parametrize("url", ["/qms/records/?q=%00", "/qms/records/?signer=a%00", "/qms/documents/?q=%00",
                                 "/qms/documents/?owner=%00"])
def test_a_nul_byte_in_a_browser_list_filter_matches_nothing_rather_than_failing(people, url):
    browser = Client()
    browser.force_login(people["quality_mgr"])
    assert browser.get(url).status_code == 200  # on PostgreSQL a NUL sent to the database is a server error


# --- every API view is guarded ----------------------------------------------------------------------


def _api_views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/"):
            view = pattern.callback
            yield prefix + str(pattern.pattern), getattr(view, "cls", None) or getattr(view, "view_class", None)


def test_every_api_view_checks_its_input_in_the_shared_guard():
    from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

    from core.rest.base import InputGuard

    views = list(_api_views(get_resolver().url_patterns))
    assert len(views) > 30
    unguarded = [route for route, cls in views
                 if cls not in (SpectacularAPIView, SpectacularSwaggerView) and not issubclass(cls, InputGuard)]
    assert unguarded == []
