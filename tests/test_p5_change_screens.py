"""Screens of CR-5 and CR-4 (issue 16): the change's start form opened from a requirement and
a P1 review step showing the customer-specific requirements, in both languages at a phone's
and a laptop's width: each loads, the console stays clean, a phone never scrolls sideways.
Screenshots: var/screenshots/requirement-change/."""

import pytest
from flow_driver import start
from test_browser_journey import browser  # noqa: F401 (the fixture)
from test_p5_change_and_links import approved_requirement, order_body
from test_screens import log_in, look
from viewflow.workflow.models import Task

from procedures.order_review.flows import OrderReviewFlow
from workflows.actions import claim_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_change_start_form_and_p1_review_with_csrs(browser, live_server, people, language,  # noqa: F811
                                                   monkeypatch):
    import test_screens

    monkeypatch.setattr(test_screens, "SCREENS", test_screens.SHOTS / "requirement-change")
    req, _main = approved_requirement(people, requirement_type="customer_specific",
                                      words="每批附 CoC 合格证 a CoC with every lot")
    order = start(OrderReviewFlow, "start", people["market"], order_body("C001", f"PO-SHOT-{language}"))
    task = Task.objects.get(process=order, flow_task=OrderReviewFlow.review_quality)
    claim_task(task, actor=people["quality"])
    problems = []
    for user, url, name in (
            ("market", f"/qms/flows/requirementchange/start/?requirement={req.record.number}", "change-start"),
            ("quality", f"/qms/flows/orderreview/{order.pk}/review_quality/{task.pk}/execute/", "p1-review-csr")):
        context, page, errors = log_in(browser, live_server.url, user, language)
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            problems += look(page, errors, live_server.url + url, f"{name}-{language}-{width}")
        context.close()
    assert not problems, problems
