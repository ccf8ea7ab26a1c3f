"""Issue 14 item 8 — privileges and identities change only with an audit entry (SIG-14, SIG-5), a user ID is
never renamed (SIG-10), and a process is never cancelled without a reason (SIG-13). Driven through the
Django admin change forms as an administrator's browser posts them (the form's own fields read from the
page), and through the process cancel page; the audit chain still verifies after each."""
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, IntegrityError, transaction
from django.test import Client

from accounts.models import Membership, User
from core.audit import verify_chain
from core.models import AuditEntry, Record
from forms.models import Customer, Product

pytestmark = pytest.mark.django_db

REASON = "岗位调整 role change approved by QM (ticket 42)"


class _FormReader(HTMLParser):
    """What a browser would submit from the page's main form: text inputs, ticked boxes, selected options,
    text areas (the admin's change form is the one with the CSRF token and `_save`)."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = {}, None, None

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self._add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data


def form_data(client, url):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    reader = _FormReader()
    reader.feed(page.content.decode())
    data = {k: v for k, v in reader.data.items() if k not in ("q",)}
    data.pop("action", None)
    return data


def post(client, url, data, **changes):
    payload = dict(data)
    for key, value in changes.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value if isinstance(value, list) else [value]
    payload["_save"] = ["Save"]
    return client.post(url, payload)


@pytest.fixture
def admin(people):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(people["admin"])
    return client


def user_url(user):
    return f"/admin/accounts/user/{user.pk}/change/"


def entries(action, obj):
    return list(AuditEntry.objects.filter(action=action, object_id=str(obj.pk)).order_by("seq"))


def chain_verifies():
    return list(verify_chain()) == []


# --- superuser, staff, active ------------------------------------------------------------------------------

def test_granting_and_revoking_superuser_and_staff_in_the_change_form_is_audited(admin, people):
    user = people["finance"]
    url = user_url(user)
    data = form_data(admin, url)
    assert "is_superuser" not in data and "is_staff" not in data  # not ticked today
    response = post(admin, url, data, is_superuser="on", is_staff="on", change_reason=REASON)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.is_superuser and user.is_staff
    [granted] = entries("user.privileges_changed", user)
    assert granted.old_values == {"is_staff": False, "is_superuser": False}
    assert granted.new_values == {"is_staff": True, "is_superuser": True}
    assert granted.reason == REASON and granted.actor_id == people["admin"].pk

    data = form_data(admin, url)
    response = post(admin, url, data, is_superuser=None, is_staff=None, change_reason="离岗 left the role")
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_superuser and not user.is_staff
    revoked = entries("user.privileges_changed", user)[-1]
    assert revoked.old_values == {"is_staff": True, "is_superuser": True}
    assert revoked.new_values == {"is_staff": False, "is_superuser": False}
    assert revoked.reason == "离岗 left the role"
    assert chain_verifies()


def test_a_change_of_access_rights_without_a_reason_is_refused_and_nothing_is_saved(admin, people):
    user = people["finance"]
    url = user_url(user)
    before = AuditEntry.objects.count()
    response = post(admin, url, form_data(admin, url), is_superuser="on")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["change_reason"] == [
        "Give the reason for this change of access rights or name."]
    user.refresh_from_db()
    assert not user.is_superuser
    assert AuditEntry.objects.count() == before


def test_deactivating_in_the_change_form_is_audited_with_the_reason(admin, people):
    user = people["finance"]
    url = user_url(user)
    response = post(admin, url, form_data(admin, url), is_active=None, change_reason="离职 left the company")
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    [entry] = entries("user.activation_changed", user)
    assert (entry.old_values, entry.new_values, entry.reason) == (
        {"is_active": True}, {"is_active": False}, "离职 left the company")
    assert entry.actor_id == people["admin"].pk


def test_a_new_printed_name_is_audited(admin, people):
    user = people["finance"]
    url = user_url(user)
    response = post(admin, url, form_data(admin, url), display_name="马红红 Ma Honghong",
                    change_reason="改名 legal name change")
    assert response.status_code == 302
    [entry] = entries("user.identity_changed", user)
    assert entry.old_values == {"display_name": "马红 Ma Hong"}
    assert entry.new_values == {"display_name": "马红红 Ma Honghong"}
    assert entry.reason == "改名 legal name change"


# --- groups, permissions, departments -------------------------------------------------------------------

def test_groups_and_permissions_granted_and_revoked_in_the_change_form_are_audited(admin, people):
    user = people["finance"]
    group = Group.objects.create(name="记录查阅 record readers")
    permission = Permission.objects.get(content_type__app_label="core", codename="view_record")
    url = user_url(user)
    response = post(admin, url, form_data(admin, url), groups=[str(group.pk)],
                    user_permissions=[str(permission.pk)], change_reason=REASON)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(user.groups.all()) == [group] and list(user.user_permissions.all()) == [permission]
    [group_granted] = entries("access.group_granted", user)
    assert group_granted.new_values == {"user": "finance", "groups": ["记录查阅 record readers"]}
    assert group_granted.reason == REASON and group_granted.actor_id == people["admin"].pk
    [permission_granted] = entries("access.permission_granted", user)
    assert permission_granted.new_values == {"user": "finance", "permissions": ["core.view_record"]}

    response = post(admin, url, form_data(admin, url), groups=[], user_permissions=[],
                    change_reason="不再需要 no longer needed")
    assert response.status_code == 302
    assert not user.groups.exists() and not user.user_permissions.exists()
    [group_revoked] = entries("access.group_revoked", user)
    assert group_revoked.old_values == {"user": "finance", "groups": ["记录查阅 record readers"]}
    assert group_revoked.reason == "不再需要 no longer needed"
    [permission_revoked] = entries("access.permission_revoked", user)
    assert permission_revoked.old_values == {"user": "finance", "permissions": ["core.view_record"]}
    assert chain_verifies()


def test_a_group_refused_without_a_reason_is_not_granted(admin, people):
    user = people["finance"]
    group = Group.objects.create(name="readers")
    url = user_url(user)
    response = post(admin, url, form_data(admin, url), groups=[str(group.pk)])
    assert response.status_code == 200 and not user.groups.exists()
    assert not AuditEntry.objects.filter(action="access.group_granted").exists()


def test_a_group_given_its_users_or_permissions_elsewhere_is_audited_too(people):
    group = Group.objects.create(name="readers")
    permission = Permission.objects.get(content_type__app_label="core", codename="view_record")
    group.user_set.add(people["finance"])  # the other side of the relation (a shell, a script)
    group.permissions.add(permission)
    [entry] = entries("access.group_granted", people["finance"])
    assert entry.new_values == {"user": "finance", "groups": ["readers"]}
    [entry] = AuditEntry.objects.filter(action="access.group_permission_granted")
    assert entry.new_values == {"group": "readers", "permissions": ["core.view_record"]}
    group.permissions.clear()
    [entry] = AuditEntry.objects.filter(action="access.group_permission_revoked")
    assert entry.old_values == {"group": "readers", "permissions": ["core.view_record"]}
    assert chain_verifies()


def test_departments_added_changed_and_removed_in_the_change_form_are_audited_with_the_reason(admin, people):
    user = people["finance"]
    membership = Membership.objects.get(user=user)
    url = user_url(user)
    data = form_data(admin, url)
    prefix = "memberships"
    assert data[f"{prefix}-TOTAL_FORMS"] == ["1"]
    refused = post(admin, url, data, **{f"{prefix}-0-role": "manager"})
    assert refused.status_code == 200, "no reason: refused"
    membership.refresh_from_db()
    assert membership.role == "staff"
    response = post(admin, url, data, change_reason="升任经理 promoted", **{f"{prefix}-0-role": "manager"})
    assert response.status_code == 302, response.content.decode()[:2000]
    [changed] = entries("access.changed", membership)
    assert changed.old_values == {"user": "finance", "department": "finance", "role": "staff"}
    assert changed.new_values == {"user": "finance", "department": "finance", "role": "manager"}
    assert changed.reason == "升任经理 promoted" and changed.actor_id == people["admin"].pk

    data = form_data(admin, url)
    response = post(admin, url, data, change_reason="调岗 moved", **{f"{prefix}-0-DELETE": "on"})
    assert response.status_code == 302
    assert not Membership.objects.filter(user=user).exists()
    [revoked] = entries("access.revoked", membership)
    assert revoked.old_values == {"user": "finance", "department": "finance", "role": "manager"}
    assert revoked.reason == "调岗 moved"
    assert chain_verifies()


# --- SIG-10: a user ID is never renamed, reused or deleted ------------------------------------------------

def test_the_change_form_shows_the_username_read_only_and_ignores_a_posted_one(admin, people):
    user = people["finance"]
    url = user_url(user)
    data = form_data(admin, url)
    assert "username" not in data, "no username input on the change form"
    response = post(admin, url, data, username="finance2")
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.username == "finance"
    assert not User.objects.filter(username="finance2").exists()


def test_a_username_cannot_be_renamed_through_the_model_or_the_database(people):
    from django.core.exceptions import ValidationError

    user = User.objects.get(username="finance")
    user.username = "finance-renamed"
    with pytest.raises(ValidationError) as error:
        user.full_clean()
    assert "username" in error.value.message_dict
    with pytest.raises(PermissionError):
        user.save()
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        User.objects.filter(pk=user.pk).update(username="finance-renamed")
    assert User.objects.get(pk=user.pk).username == "finance"
    user = User.objects.get(pk=user.pk)
    user.first_name = "Hong"
    user.save()  # any other change still saves
    with pytest.raises(PermissionError):
        user.delete()


def test_the_admin_offers_no_user_deletion(admin, people):
    user = people["finance"]
    assert admin.get(f"/admin/accounts/user/{user.pk}/delete/").status_code == 403
    response = admin.post("/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [user.pk]})
    assert User.objects.filter(pk=user.pk).exists() and response.status_code in (200, 302)


# --- customers and products -------------------------------------------------------------------------------

@pytest.mark.parametrize("model, url, values, field, new_value", [
    (Customer, "/admin/forms/customer/", {"code": "C900", "name_zh": "新客户", "name_en": "New Customer",
                                          "address": "", "contact": "", "phone": "", "active": "on"},
     "name_en", "New Customer Ltd."),
    (Product, "/admin/forms/product/", {"code": "P-9000", "name_zh": "新产品", "name_en": "New product",
                                        "specification": "", "unit": "pcs", "active": "on"},
     "specification", "Φ30×100"),
])
def test_customers_and_products_created_and_changed_in_the_admin_are_audited(
        admin, people, model, url, values, field, new_value):
    label = model._meta.model_name
    response = admin.post(url + "add/", {**values, "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    obj = model.objects.get(code=values["code"])
    [created] = entries(f"{label}.created", obj)
    assert created.actor_id == people["admin"].pk and created.new_values["code"] == values["code"]

    change = f"{url}{obj.pk}/change/"
    data = form_data(admin, change)
    refused = post(admin, change, data, **{field: new_value})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["change_reason"] == ["Give the reason for this change."]
    obj.refresh_from_db()
    assert getattr(obj, field) == values[field]
    assert not entries(f"{label}.changed", obj)

    response = post(admin, change, data, change_reason="客户更名 renamed", **{field: new_value})
    assert response.status_code == 302
    obj.refresh_from_db()
    assert getattr(obj, field) == new_value
    [changed] = entries(f"{label}.changed", obj)
    assert changed.old_values == {field: values[field]} and changed.new_values == {field: new_value}
    assert changed.reason == "客户更名 renamed" and changed.actor_id == people["admin"].pk
    assert admin.get(f"{url}{obj.pk}/delete/").status_code == 403
    with pytest.raises(PermissionError):
        obj.delete()
    assert chain_verifies()


def test_master_data_changed_outside_the_admin_is_audited_too(people):
    customer = Customer.objects.get(code="C001")
    customer.phone = "0512-0000000"
    customer.save()
    [entry] = entries("customer.changed", customer)
    assert entry.new_values == {"phone": "0512-0000000"}
    customer.save()  # nothing changed: no entry
    assert len(entries("customer.changed", customer)) == 1


# --- SIG-13: cancelling a process needs a reason -----------------------------------------------------------

def test_an_administrator_cannot_cancel_a_process_without_a_reason(admin, people, order_data):
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import PROCESS, STATUS

    from flow_driver import start
    from inbox.signals import process_link
    from procedures.order_review.flows import OrderReviewFlow

    process = start(OrderReviewFlow, "start", people["market"], order_data(number="PO-CANCEL-1"))
    record = Record.objects.get(process_id=process.pk)
    url = f"/qms/flows/orderreview/{process.pk}/cancel/"
    page = admin.get(url)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()

    for reason in ("", "   ", "x"):
        response = admin.post(url, {"_cancel_process": "1", "reason": reason})
        assert response.status_code == 400
        assert response.context["reason_form"].errors["reason"]
        process.refresh_from_db()
        assert process.status != PROCESS.CANCELED
    assert not AuditEntry.objects.filter(process_id=process.pk, action="process.cancelled").exists()

    reason = "客户撤单 the customer withdrew the order"
    response = admin.post(url, {"_cancel_process": "1", "reason": reason})
    assert response.status_code == 302
    process.refresh_from_db()
    assert process.status == PROCESS.CANCELED
    status_entry = AuditEntry.objects.get(process_id=process.pk, action="process.status_changed",
                                          new_values__status="CANCELED")
    assert status_entry.reason == reason and status_entry.actor_id == people["admin"].pk
    [on_record] = AuditEntry.objects.filter(action="process.cancelled", record=record)
    assert on_record.reason == reason and on_record.actor_id == people["admin"].pk
    cancelled_tasks = Task.objects.filter(process=process, status=STATUS.CANCELED)
    assert cancelled_tasks.exists()
    for task in cancelled_tasks:
        entry = AuditEntry.objects.filter(object_id=str(task.pk), action="task.status_changed",
                                          new_values__status="CANCELED").get()
        assert entry.reason == reason

    process_page = admin.get(process_link(process)).content.decode()
    assert reason in process_page.split('id="process-data"', 1)[1]
    assert reason in admin.get(f"/qms/records/{record.number}/").content.decode()
    assert chain_verifies()


def test_a_member_of_staff_still_cannot_cancel_even_with_a_reason(people, order_data):
    from viewflow.workflow.status import PROCESS

    from flow_driver import start
    from procedures.order_review.flows import OrderReviewFlow

    process = start(OrderReviewFlow, "start", people["market"], order_data(number="PO-CANCEL-2"))
    client = Client()
    client.force_login(people["market_mgr"])
    response = client.post(f"/qms/flows/orderreview/{process.pk}/cancel/",
                           {"_cancel_process": "1", "reason": "不要了 not wanted"})
    assert response.status_code == 403
    process.refresh_from_db()
    assert process.status != PROCESS.CANCELED


def test_an_administrator_cannot_cancel_a_single_task_without_a_reason(admin, people, order_data):
    """viewflow's per-task cancel page (every node of every flow: workflows.cancel.with_cancel_reasons)."""
    from viewflow.workflow.status import STATUS

    from flow_driver import start
    from p1_driver import open_task
    from procedures.order_review.flows import OrderReviewFlow

    process = start(OrderReviewFlow, "start", people["market"], order_data(number="PO-CANCEL-3"))
    task = open_task(process, "review_quality")
    url = f"/qms/flows/orderreview/{process.pk}/review_quality/{task.pk}/cancel/"
    page = admin.get(url)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()

    for reason in ("", "   ", "x"):
        response = admin.post(url, {"reason": reason})
        assert response.status_code == 400
        assert response.context["form"].errors["reason"] == [
            "Say why the task is cancelled (at least 5 characters)." if reason.strip() else "This field is required."]
        task.refresh_from_db()
        assert task.status != STATUS.CANCELED
    assert not AuditEntry.objects.filter(object_id=str(task.pk), action="task.status_changed",
                                         new_values__status="CANCELED").exists()

    staff = Client()
    staff.force_login(people["quality_mgr"])
    assert staff.post(url, {"reason": "不需要质量评审 not needed"}).status_code == 403
    task.refresh_from_db()
    assert task.status != STATUS.CANCELED

    reason = "重复的评审任务 a duplicate review"
    response = admin.post(url, {"reason": reason})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == STATUS.CANCELED
    entry = AuditEntry.objects.get(object_id=str(task.pk), action="task.status_changed", new_values__status="CANCELED")
    assert entry.reason == reason and entry.actor_id == people["admin"].pk
    from inbox.signals import process_link
    data_card = admin.get(process_link(process)).content.decode().split('id="process-data"', 1)[1]
    assert reason in data_card and f"#{task.pk}" in data_card
    # the whole process cancelled later, for its own reason: both show, the steps it took with it once
    whole = "客户取消订单 the customer cancelled the order"
    assert admin.post(f"/qms/flows/orderreview/{process.pk}/cancel/",
                      {"_cancel_process": "1", "reason": whole}).status_code == 302
    data_card = admin.get(process_link(process)).content.decode().split('id="process-data"', 1)[1]
    assert reason in data_card and whole in data_card
    assert data_card.count('class="qms-step-cancelled"') == 1
    # steps the engine runs (gateways, joins …) cancelled with it are the administrator's doing, not the system's
    from workflows.cancel import cancellation_of
    cancelled_with_it = AuditEntry.objects.filter(process_id=process.pk, action="task.status_changed",
                                                  new_values__status="CANCELED", reason=whole)
    assert cancelled_with_it.exists() and set(cancelled_with_it.values_list("actor_id", flat=True)) == {
        people["admin"].pk}
    process.refresh_from_db()
    assert cancellation_of(process).actor_id == people["admin"].pk
    # every node with viewflow's cancel page asks for the reason, in every flow
    from core.registry import flows
    from viewflow.workflow.flow.views.actions import CancelTaskView

    from workflows.cancel import CancelTaskWithReasonView
    nodes = [node for flow_class in flows() for node in flow_class.instance.nodes()
             if getattr(node, "cancel_view_class", None)]
    assert nodes and all(node.cancel_view_class is CancelTaskWithReasonView for node in nodes
                         if issubclass(node.cancel_view_class, CancelTaskView))
    assert chain_verifies()



def test_a_step_the_engine_runs_cancelled_on_a_cancel_page_is_audited_as_the_administrators(people, order_data):
    """Outside a cancel page a gateway's or a job's transition is the system's; cancelled with a reason by an
    administrator (workflows.signals.correcting) it is theirs, with the reason."""
    from viewflow.workflow.models import Task

    from core.context import acting_as
    from flow_driver import start
    from procedures.order_review.flows import OrderReviewFlow
    from workflows.signals import correcting

    process = start(OrderReviewFlow, "start", people["market"], order_data(number="PO-CANCEL-4"))
    gateway = Task.objects.get(process=process, flow_task_type="PARALLEL_GATEWAY")
    with acting_as(people["admin"]), correcting("卡住的网关 a stuck gateway"):
        gateway.status = "CANCELED"
        gateway.save()
    entry = AuditEntry.objects.get(object_id=str(gateway.pk), action="task.status_changed",
                                   new_values__status="CANCELED")
    assert entry.actor_id == people["admin"].pk and entry.reason == "卡住的网关 a stuck gateway"


def test_undoing_or_reviving_a_step_needs_a_reason_which_the_audit_trail_and_process_page_keep(
        admin, people, order_data):
    """viewflow's undo page (a finished step whose next steps were all cancelled) and revive page (a cancelled
    or failed step made anew) ask for a reason, as the cancel pages do (SIG-13); without one nothing changes."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from core.context import acting_as
    from flow_driver import start
    from inbox.signals import process_link
    from procedures.order_review.flows import OrderReviewFlow
    from workflows.signals import correcting

    process = start(OrderReviewFlow, "start", people["market"], order_data(number="PO-UNDO-1"))
    split = Task.objects.get(process=process, flow_task=OrderReviewFlow.reviews)
    reviews = list(Task.objects.filter(process=process, flow_task_type="HUMAN", status=STATUS.NEW))
    assert split.status == STATUS.DONE and len(reviews) == 5
    with acting_as(people["admin"]), correcting("评审轮次作废 the review round is void"):
        for task in reviews:
            task.flow_task.activation_class(task).cancel()
    base = f"/qms/flows/orderreview/{process.pk}"

    undo = f"{base}/reviews/{split.pk}/undo/"
    page = admin.get(undo)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    for reason in ("", "x"):
        response = admin.post(undo, {"reason": reason})
        assert response.status_code == 400, response.status_code
        assert response.context["form"].errors["reason"] == [
            "Say why the step is undone (at least 5 characters)." if reason else "This field is required."]
    split.refresh_from_db()
    assert split.status == STATUS.DONE
    undone = "拆分有误，重新发起 the split was wrong"
    assert admin.post(undo, {"reason": undone}).status_code == 302
    split.refresh_from_db()
    assert split.status == STATUS.CANCELED
    entry = AuditEntry.objects.get(object_id=str(split.pk), action="task.status_changed",
                                   new_values__status="CANCELED")
    assert entry.reason == undone and entry.actor_id == people["admin"].pk and entry.old_values["status"] == "DONE"

    quality = next(task for task in reviews if task.flow_task.name == "review_quality")
    revive = f"{base}/review_quality/{quality.pk}/revive/"
    assert 'name="reason"' in admin.get(revive).content.decode()
    response = admin.post(revive, {"reason": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["This field is required."]
    quality.refresh_from_db()
    assert quality.status == STATUS.CANCELED
    assert admin.post(revive, {"reason": "abc"}).context["form"].errors["reason"] == [
        "Say why the step is revived (at least 5 characters)."]
    revived = "误取消，恢复质量评审 cancelled by mistake"
    assert admin.post(revive, {"reason": revived}).status_code == 302
    quality.refresh_from_db()
    assert quality.status == STATUS.REVIVED
    entry = AuditEntry.objects.get(object_id=str(quality.pk), action="task.status_changed",
                                   new_values__status="REVIVED")
    assert entry.reason == revived and entry.actor_id == people["admin"].pk
    assert Task.objects.filter(process=process, flow_task=OrderReviewFlow.review_quality, status=STATUS.NEW).exists()

    staff = Client()
    staff.force_login(people["quality_mgr"])
    production = next(task for task in reviews if task.flow_task.name == "review_production")
    assert staff.post(f"{base}/review_production/{production.pk}/revive/", {"reason": "恢复生产评审 revive"}) \
        .status_code == 403

    # the process page lists each step cancelled, undone or revived, with who, when and why
    card = admin.get(process_link(process)).content.decode().split('id="process-data"', 1)[1]
    assert card.count('class="qms-step-cancelled"') == 5 and card.count('class="qms-step-undone"') == 1
    assert card.count('class="qms-step-revived"') == 1
    assert undone in card and revived in card and "评审轮次作废" in card
    # every node with viewflow's undo or revive page asks for the reason, in every flow
    from viewflow.workflow.flow.views.actions import ReviveTaskView, UndoTaskView

    from core.registry import flows
    from workflows.cancel import ReviveTaskWithReasonView, UndoTaskWithReasonView
    nodes = [node for flow_class in flows() for node in flow_class.instance.nodes()]
    undo_pages = [node.undo_view_class for node in nodes if getattr(node, "undo_view_class", None)]
    revive_pages = [node.revive_view_class for node in nodes if getattr(node, "revive_view_class", None)]
    assert undo_pages and all(page is UndoTaskWithReasonView for page in undo_pages if issubclass(page, UndoTaskView))
    assert revive_pages and all(page is ReviveTaskWithReasonView for page in revive_pages
                                if issubclass(page, ReviveTaskView))
    assert chain_verifies()


def test_a_reason_given_for_one_step_goes_on_that_step_alone(people, order_data):
    """An administrator's undo or revive of one step (workflows.signals.correcting(reason, task=…)) may set off
    further changes (a revived step's next steps cancelling others): those are not given its reason, and an
    engine step among them stays the system's."""
    from viewflow.workflow.models import Task

    from core.context import acting_as
    from flow_driver import start
    from procedures.order_review.flows import OrderReviewFlow
    from workflows.signals import correcting

    process = start(OrderReviewFlow, "start", people["market"], order_data(number="PO-CANCEL-5"))
    target, other = Task.objects.filter(process=process, flow_task_type="HUMAN").order_by("pk")[:2]
    gateway = Task.objects.get(process=process, flow_task_type="PARALLEL_GATEWAY")
    with acting_as(people["admin"]), correcting("只撤销这一步 this step only", task=target):
        for task in (target, other, gateway):
            task.status = "CANCELED"
            task.save()

    def entry(task):
        return AuditEntry.objects.get(object_id=str(task.pk), action="task.status_changed",
                                      new_values__status="CANCELED")
    assert entry(target).reason == "只撤销这一步 this step only" and entry(target).actor_id == people["admin"].pk
    assert entry(other).reason == "" and entry(gateway).reason == ""
    assert entry(gateway).actor_id is None  # the engine's, as outside an administrator's page
    assert chain_verifies()
