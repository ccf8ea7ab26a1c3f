"""Approve and reject are explicit (issue 13 item 2) and forms help (item 7): an approval
step shows one submit button per signature meaning, each naming the meaning it records,
and no meaning to pick from a list; the pressed button is the decision; a reject needs its
reason; the approver sees every term they approve; required choices start empty; errors are
shown once at their field and listed, with links, in the banner; dates are ISO in date inputs."""
import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from core.models import Signature
from drivers import WebDriver
from flow_driver import open_tasks
from p1_driver import open_task, review_all, review_data, start
from p4_support import PROCEDURE_REVIEWERS, draft, register
from p4_support import review_all as p4_review_all
from procedures.order_review.forms import MaterialsReviewForm, NegotiationForm
from procedures.order_review.models import OrderReview, OrderReviewStatus
from test_browser_journey import browser  # noqa: F401  (the browser fixture)
from workflows.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

BASE = "/qms/flows/orderreview"


def _claim(client, process, step):
    task = open_task(process.pk, step)
    client.post(f"{BASE}/{process.pk}/{step}/{task.pk}/assign/")
    return f"{BASE}/{process.pk}/{step}/{task.pk}/execute/"


@pytest.fixture
def approval(people, order_data):
    """A P1 order with every term filled in, reviewed by the five departments, waiting for the
    Market manager's approval; (process, client of market_mgr, URL of the approval page)."""
    data = order_data(statutory_requirements="GB/T 10125 盐雾 salt spray; RoHS 2011/65/EU",
                      quote_reference="Q-2026-17", quote_differences="单价低于报价 price below the quotation")
    process = start(people["market"], data)
    review_all(process, people)
    client = WebDriver().client("market_mgr")
    return process, client, _claim(client, process, "approve")


def _in_english(client):
    client.post("/i18n/setlang/", {"language": "en"})
    return client


def _signatures(process):
    return Signature.objects.filter(record_version__record__process_id=process.pk, meaning__in=["approved", "rejected"])


def test_the_approval_page_shows_two_buttons_naming_their_meanings_and_no_meaning_to_choose(approval):
    _process, client, url = approval
    html = _in_english(client).get(url).content.decode()
    assert '<select name="sig-meaning"' not in html and 'id="id_sig-meaning"' in html  # the group of buttons
    buttons = re.findall(r'<button type="submit" name="sig-meaning" value="(\w+)"[^>]*>(.*?)</button>', html, re.S)
    assert [value for value, _text in buttons] == ["approved", "rejected"]
    texts = {value: re.sub(r"\s+|<[^>]+>", " ", text) for value, text in buttons}
    assert "Approve and sign" in texts["approved"] and "Approved" in texts["approved"]
    assert "Reject and sign" in texts["rejected"] and "Rejected" in texts["rejected"]
    # Enter in a field decides nothing: the form's first submit button is a disabled one
    form = html[html.index('class="qms-form"'):]
    assert re.search(r'<button type="submit"([^>]*)>', form).group(1).count("disabled") == 1
    assert "selected" not in html[html.index('id="id_sig-meaning"'):html.index("</form>")]


def test_a_step_with_one_meaning_shows_one_button_naming_it(people, order_data):
    process = start(people["market"], order_data())
    client = WebDriver().client("quality")
    html = _in_english(client).get(_claim(client, process, "review_quality")).content.decode()
    buttons = re.findall(r'<button type="submit" name="sig-meaning" value="(\w+)"', html)
    assert buttons == ["reviewed"] and "Reviewed" in html[html.index('id="id_sig-meaning"'):]
    assert "<select" not in html[html.index('id="signature"'):html.index("</form>")]


def test_reject_without_a_reason_shows_the_error_once_at_the_field_and_signs_nothing(approval):
    process, client, url = approval
    response = client.post(url, {"conclusion": "不接受 no", "sig-username": "market_mgr",
                                 "sig-password": DEMO_PASSWORD, "sig-meaning": "rejected"})
    assert response.status_code == 200
    html = response.content.decode()
    message = str(response.context["signature_form"].errors["reason"][0])
    assert html.count(message) == 1
    field = html[html.index('id="field-sig-reason"'):]
    assert message in field[:field.index("</div>\n") + 200]  # at the reason field
    assert 'href="#id_sig-reason"' in html[html.index('id="form-error"'):]  # listed, with a link
    assert not _signatures(process).exists()
    assert OrderReview.objects.get(record__process_id=process.pk).status == OrderReviewStatus.AWAITING_APPROVAL


def test_pressing_approve_signs_approved_and_reject_with_a_reason_signs_rejected(approval, people, order_data):
    process, client, url = approval
    response = client.post(url, {"conclusion": "同意 agreed", "differences_resolution": "客户接受 accepted",
                                 "sig-username": "market_mgr", "sig-password": DEMO_PASSWORD,
                                 "sig-meaning": "approved"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(_signatures(process).values_list("meaning", flat=True)) == ["approved"]
    assert OrderReview.objects.get(record__process_id=process.pk).status == OrderReviewStatus.APPROVED

    other = start(people["market"], order_data(number="PO-REJECT"))
    review_all(other, people)
    url = _claim(client, other, "approve")
    response = client.post(url, {"conclusion": "不接受 no", "sig-password": DEMO_PASSWORD, "sig-meaning": "rejected",
                                 "sig-reason": "价格不可接受 price not acceptable"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(_signatures(other).values_list("meaning", "reason")) == [("rejected", "价格不可接受 price not acceptable")]


def test_an_approval_posted_without_a_pressed_button_is_refused_and_nothing_is_signed(approval):
    process, client, url = approval
    response = client.post(url, {"conclusion": "同意", "sig-username": "market_mgr", "sig-password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert response.context["signature_form"].errors["meaning"]
    assert 'href="#id_sig-meaning"' in response.content.decode()
    assert not _signatures(process).exists()


def test_the_approver_sees_every_term_they_approve(approval):
    _process, client, url = approval
    html = client.get(url).content.decode()
    summary = html[html.index('id="order-summary"'):]
    summary = summary[:summary.index("</section>")]
    for text in ["月结 30 天 Net 30", "上海 Shanghai", "纸箱 Carton", "GB/T 10125 盐雾 salt spray; RoHS 2011/65/EU",
                 "RoHS 合规 RoHS compliant", "Q-2026-17", "单价低于报价 price below the quotation", "PO-2026-001"]:
        assert text in summary, text
    lines = summary[summary.index('id="order-lines"'):]
    for text in ["12.5", "6250.00", "8", "2400.00", "8650.00"]:  # unit prices, amounts, the total
        assert text in lines, text
    verdicts = summary[summary.index('id="verdicts-1"'):]
    assert verdicts.count("<tr>") == 6  # a header and the five departments' verdicts (Market's own review too)


def test_material_readiness_starts_empty_and_is_required(people):
    form = MaterialsReviewForm()
    assert form.fields["material_readiness"].choices[0][0] == ""
    rendered = str(form["material_readiness"])
    assert re.search(r'<select name="material_readiness"[^>]*>\s*<option value="" selected>', rendered)
    bound = MaterialsReviewForm(review_data("materials", verdict="can_meet"))
    assert not bound.is_valid() and list(bound.errors) == ["material_readiness"]
    assert MaterialsReviewForm(review_data("materials", verdict="can_meet", material_readiness="ready")).is_valid()


def test_the_error_banner_links_each_error_to_its_field_once(people, order_data):
    client = WebDriver().client("market")
    data = order_data()
    body = {"kind": "order", "customer": "C001", "order_number": "", "order_date": "",
            "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-product": "P-1001",
            "lines-0-quantity": "0", "lines-0-delivery_date": data["lines"][0]["delivery_date"]}
    response = client.post(f"{BASE}/start/", body)
    assert response.status_code == 200
    html = response.content.decode()
    banner = html[html.index('id="form-error"'):]
    banner = banner[:banner.index("</div>")]
    links = re.findall(r'<a href="#([^"]+)">', banner)
    assert links == ["id_order_number", "id_order_date", "id_lines-0-quantity"]
    for link in links:
        assert f'id="{link}"' in html
    # each message once, at its field (not again in the banner)
    form = response.context["form"]
    errors = {"id_order_number": form.errors["order_number"], "id_order_date": form.errors["order_date"],
              "id_lines-0-quantity": form.nested["lines"].forms[0].errors["quantity"]}
    for ident, messages in errors.items():
        at_field = re.search(rf'<div class="qms-error" id="{ident}_error">(.*?)</div>', html, re.S).group(1)
        for message in messages:
            assert at_field.count(str(message)) == 1 and str(message) not in banner, message
    assert html.count(str(errors["id_lines-0-quantity"][0])) == 1


def test_a_domain_error_of_a_field_is_not_shown_twice(approval):
    """The action refuses an approval whose quotation differences are unresolved; the form had
    no such rule, so the message is shown once, at the field."""
    process, client, url = approval
    response = client.post(url, {"conclusion": "同意", "sig-username": "market_mgr", "sig-password": DEMO_PASSWORD,
                                 "sig-meaning": "approved"})
    assert response.status_code == 200
    html = response.content.decode()
    message = str(response.context["form"].errors["differences_resolution"][0])
    assert html.count(message) == 1 and 'href="#id_differences_resolution"' in html
    assert not _signatures(process).exists()


def test_line_item_inputs_are_labelled_by_column_and_line(people, order_data):
    client = WebDriver().client("market")
    html = _in_english(client).get(f"{BASE}/start/").content.decode()
    assert re.search(r'<input[^>]*aria-label="quantity, line 1"[^>]*name="lines-0-quantity"|'
                     r'<input[^>]*name="lines-0-quantity"[^>]*aria-label="quantity, line 1"', html)
    template = html[html.index('<template class="qms-empty-line">'):]
    assert 'aria-label="quantity, line __line__"' in template  # numbered by formset.js when added
    assert 'data-line-label="__column__, line __line__"' in html


def test_long_forms_are_in_sections(people):
    client = WebDriver().client("market")
    html = _in_english(client).get(f"{BASE}/start/").content.decode()
    legends = re.findall(r'<fieldset class="qms-fields qms-section">\s*<legend>([^<]+)</legend>', html)
    assert legends == ["Order", "Commercial terms", "Requirements", "Review"]
    assert "<legend>Order lines</legend>" in html


def test_dates_in_date_inputs_are_iso_in_every_language(people, order_data):
    process = start(people["market"], order_data())
    review_all(process, people, verdicts={"production": "conditions"})
    client = WebDriver().client("market")
    url = _claim(client, process, "negotiate")
    form = NegotiationForm(activation=open_task(process.pk, "negotiate").flow_task.activation_class(
        open_task(process.pk, "negotiate")))
    expected = form.nested["lines"].forms[0].initial["delivery_date"].isoformat()
    for language in ("zh-hans", "en"):
        client.post("/i18n/setlang/", {"language": language})
        html = client.get(url).content.decode()
        assert re.search(rf'type="date"[^>]*value="{expected}"|value="{expected}"[^>]*type="date"', html), language
        assert not re.search(r'type="date"[^>]*value="\d{4}/', html)


def test_the_proposed_effective_date_arrives_in_the_approval_form_as_an_iso_date(people):
    process = register(people)
    draft(process, people["market"], "第一版 first", effective_in_days=20)
    p4_review_all(process, people, PROCEDURE_REVIEWERS)
    expected = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    client = Client()
    client.force_login(people["gm"])
    task = open_tasks(process, "approve")[0]
    client.post(f"/qms/flows/documentcontrol/{process.pk}/approve/{task.pk}/assign/")
    client.post("/i18n/setlang/", {"language": "zh-hans"})
    response = client.get(f"/qms/flows/documentcontrol/{process.pk}/approve/{task.pk}/execute/")
    assert response.status_code == 200, response.content.decode()[:500]
    assert re.search(rf'<input type="date" name="effective_date" value="{expected}"', response.content.decode())


# --- in a real browser ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_enter_decides_nothing_errors_take_the_focus_and_the_buttons_decide(
        browser, live_server, people, order_data):
    from test_browser_journey import SHOTS, Person

    data = order_data(statutory_requirements="GB/T 10125 盐雾 salt spray")
    process = start(people["market"], data)
    review_all(process, people)
    manager = Person(browser, live_server, "market_mgr")
    manager.claim_and_open(process.pk, "approve")
    page = manager.page
    assert page.locator("select[name='sig-meaning']").count() == 0
    assert page.locator("button[name='sig-meaning']").count() == 2
    page.fill("#id_conclusion", "不接受 not accepted")
    page.fill("#id_sig-username", "market_mgr")
    page.fill("#id_sig-password", DEMO_PASSWORD)
    url = page.url
    page.press("#id_sig-password", "Enter")  # implicit submission: the disabled default button decides nothing
    page.wait_for_timeout(500)
    assert page.url == url and not _signatures(process).exists()

    page.click("button[name='sig-meaning'][value='rejected']")  # no reason
    page.wait_for_selector("#form-error")
    assert page.evaluate("document.activeElement.id") == "id_sig-reason"  # focus on the first error
    assert page.locator("#field-sig-reason .qms-error").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"approval-reject-error-{width}.png"), full_page=True)
    page.evaluate("document.activeElement.blur()")
    page.click("#form-error a[href='#id_sig-reason']")
    assert page.evaluate("document.activeElement.id") == "id_sig-reason"
    assert not _signatures(process).exists()

    page.fill("#id_sig-password", DEMO_PASSWORD)
    page.fill("#id_sig-reason", "价格不可接受 price not acceptable")
    page.click("button[name='sig-meaning'][value='rejected']")
    page.wait_for_url(lambda u: "/execute/" not in u)
    assert list(_signatures(process).values_list("meaning", flat=True)) == ["rejected"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_added_line_is_labelled_with_its_number(browser, live_server, people):
    from test_browser_journey import Person

    market = Person(browser, live_server, "market")
    page = market.page
    page.goto(f"{live_server.url}{BASE}/start/")
    page.click("#add-line-lines")
    labels = page.eval_on_selector_all("input[name$='-quantity']", "els => els.map(e => e.getAttribute('aria-label'))")
    assert labels == ["quantity, line 1", "quantity, line 2"]
