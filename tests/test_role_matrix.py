"""Every P1 URL and API endpoint × every role → allowed, or refused (401/403/404).
Each role's request runs in a savepoint that is rolled back, so roles don't see each
other's effects."""
import pytest
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from drivers import open_task
from p1_driver import review_all, start

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "market", "market_mgr", "quality", "quality_mgr", "production", "engineering",
         "materials", "finance", "warehouse", "gm"]
MEMBERS = [r for r in ROLES if r not in ("anonymous", "outsider")]


@pytest.fixture
def world(people, order_data):
    User.objects.create_user("outsider", password="Outsider-pass-1", display_name="外人 Outsider")
    order = start(people["market"], order_data(number="PO-MATRIX-1"))
    contract = start(people["market"], order_data(number="CT-MATRIX-2", kind="contract"))
    review_all(contract, people)
    record = order.order_review.record if hasattr(order, "order_review") else None
    from procedures.order_review.models import order_review_of

    return {
        "pid": order.pk, "record": order_review_of(order).record,
        "quality_task": open_task(order.pk, "review_quality"),
        "approve_task": open_task(contract.pk, "approve"), "contract": contract.pk, "unused": record,
    }


def web_client(role):
    client = Client()
    if role == "outsider":
        client.force_login(User.objects.get(username="outsider"))
    elif role != "anonymous":
        client.force_login(User.objects.get(username=role))
    return client


def api_client(role):
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(User.objects.get(username=role))
    return client


def check(make_client, request, expected):
    """`expected` maps role → status; every other role gets `expected['*']`."""
    outcome = {}
    for role in ROLES:
        with transaction.atomic():
            response = request(make_client(role))
            outcome[role] = response.status_code
            transaction.set_rollback(True)
    wanted = {role: expected.get(role, expected["*"]) for role in ROLES}
    assert outcome == wanted


ALL_MEMBERS = {role: 200 for role in MEMBERS}


# --- API ----------------------------------------------------------------------------------------------

def test_api_start_order_review_only_market(world, order_data):
    check(api_client, lambda c: c.post("/api/order-reviews/", order_data(number="PO-NEW"), format="json"),
          {"*": 403, "anonymous": 401, "market": 201, "market_mgr": 201})


def test_api_start_change_only_market(world):
    check(api_client, lambda c: c.post("/api/order-reviews/change/", {}, format="json"),
          {"*": 403, "anonymous": 401, "market": 400, "market_mgr": 400})


def test_api_task_lists_for_every_signed_in_user(world):
    for url in ["/api/tasks/", "/api/tasks/?queue=1"]:
        check(api_client, lambda c: c.get(url), {"*": 200, "anonymous": 401})


def test_api_task_detail_and_claim_only_for_the_department(world):
    task = world["quality_task"].pk
    allowed = {"*": 404, "anonymous": 401, "quality": 200, "quality_mgr": 200}
    check(api_client, lambda c: c.get(f"/api/tasks/{task}/"), allowed)
    check(api_client, lambda c: c.post(f"/api/tasks/{task}/claim/"), allowed)


def test_api_complete_is_refused_to_everyone_who_has_not_claimed(world):
    task = world["quality_task"].pk
    body = {"data": {"verdict": "can_meet"}, "signature": {"username": "x", "password": "y", "meaning": "reviewed"}}
    check(api_client, lambda c: c.post(f"/api/tasks/{task}/complete/", body, format="json"),
          {"*": 404, "anonymous": 401, "quality": 409, "quality_mgr": 409})


def test_api_contract_approval_only_for_the_general_manager(world):
    task = world["approve_task"].pk
    check(api_client, lambda c: c.post(f"/api/tasks/{task}/claim/"), {"*": 404, "anonymous": 401, "gm": 200})


def test_api_process_and_records_for_members_only(world):
    record = world["record"].pk
    for url in [f"/api/processes/{world['pid']}/", f"/api/records/{record}/", f"/api/records/{record}/audit/"]:
        check(api_client, lambda c: c.get(url), {**ALL_MEMBERS, "*": 404, "anonymous": 401})
    check(api_client, lambda c: c.get(f"/api/records/{record}/pdf/"), {**{r: 202 for r in MEMBERS}, "*": 404,
                                                                       "anonymous": 401})


def test_api_record_search_shows_nothing_to_outsiders(world):
    for role in ROLES[1:]:
        body = api_client(role).get("/api/records/").json()
        assert (body["count"] > 0) == (role != "outsider"), role
    assert api_client("anonymous").get("/api/records/").status_code == 401


def test_api_schema_and_docs_need_a_login(world):
    check(api_client, lambda c: c.get("/api/schema/"), {"*": 200, "anonymous": 401})


# --- browser URLs -------------------------------------------------------------------------------------

LOGIN = 302


def test_web_start_page_only_market(world):
    check(web_client, lambda c: c.get("/qms/flows/orderreview/start/"),
          {"*": 403, "anonymous": LOGIN, "market": 200, "market_mgr": 200})


def test_web_inbox_queue_archive_dashboard_for_members(world):
    for url in ["/qms/inbox/", "/qms/queue/", "/qms/archive/",
                "/qms/flows/orderreview/", f"/qms/flows/orderreview/{world['pid']}/", "/qms/flows/orderreview/chart/",
                "/qms/records/", f"/qms/records/{world['record'].number}/"]:
        check(web_client, lambda c: c.get(url), {**ALL_MEMBERS, "*": 403, "anonymous": LOGIN})


def test_web_claim_page_only_for_the_department(world):
    task = world["quality_task"]
    url = f"/qms/flows/orderreview/{task.process_id}/review_quality/{task.pk}/assign/"
    check(web_client, lambda c: c.get(url),
          {"*": 403, "anonymous": LOGIN, "outsider": 403, "quality": 200, "quality_mgr": 200})


def test_web_execute_page_refused_until_claimed(world):
    task = world["quality_task"]
    url = f"/qms/flows/orderreview/{task.process_id}/review_quality/{task.pk}/execute/"
    check(web_client, lambda c: c.get(url), {"*": 403, "anonymous": LOGIN})
    check(web_client, lambda c: c.post(url, {"verdict": "can_meet"}), {"*": 403, "anonymous": LOGIN})


def test_web_contract_approval_claim_only_for_the_general_manager(world):
    task = world["approve_task"]
    url = f"/qms/flows/orderreview/{task.process_id}/approve/{task.pk}/assign/"
    check(web_client, lambda c: c.post(url), {"*": 403, "anonymous": LOGIN, "gm": 302})


def test_web_process_cancel_only_for_administrators(world):
    url = f"/qms/flows/orderreview/{world['pid']}/cancel/"
    check(web_client, lambda c: c.post(url), {"*": 403, "anonymous": LOGIN})
