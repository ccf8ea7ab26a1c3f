"""workflows/gateways.py: a gateway reached from a person's step takes no savepoint of its own — its
error rolls the whole step back, nothing half-done; reached from a background trigger it keeps
viewflow's savepoint, so the error is recorded on the gateway task and the rest is kept."""
import pytest
from viewflow.workflow.context import Context
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from core.models import AuditEntry
from p1_driver import REVIEW_STEPS, act, start
from procedures.order_review.flows import OrderReviewFlow
from procedures.order_review.seed import review_answers
from workflows import gateways

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_flows_use_the_gateways_without_a_needless_savepoint():
    assert isinstance(OrderReviewFlow.all_can_meet, gateways.If)
    assert isinstance(OrderReviewFlow.negotiation_outcome, gateways.Switch)


def test_a_failing_condition_rolls_the_whole_step_back(people, order_data, monkeypatch):
    process = start(people["market"], order_data(number="PO-GW-1"))
    steps = list(REVIEW_STEPS.items())
    for department, step in steps[:-1]:
        act(process, step, people[department], {"verdict": "can_meet", **review_answers(department)}, meaning="reviewed")
    last_department, last_step = steps[-1]
    entries = AuditEntry.objects.count()

    def broken(activation):
        raise RuntimeError("condition failed")

    monkeypatch.setattr(OrderReviewFlow.all_can_meet, "_condition", broken)
    with pytest.raises(RuntimeError):
        act(process, last_step, people[last_department], {"verdict": "can_meet", **review_answers(last_department)},
            meaning="reviewed")
    last = Task.objects.get(process=process, flow_task=getattr(OrderReviewFlow, last_step))
    assert last.status != STATUS.DONE  # the step, its signature and its audit entries: all rolled back
    # only the claim (its own transaction, before the step) was kept
    assert list(AuditEntry.objects.order_by("seq").values_list("action", flat=True)[entries:]) == ["task.assigned"]
    assert not Task.objects.filter(process=process, flow_task=OrderReviewFlow.all_can_meet).exists()


def test_from_a_background_trigger_the_error_stays_on_the_gateway(people, order_data, monkeypatch):
    process = start(people["market"], order_data(number="PO-GW-2"))
    steps = list(REVIEW_STEPS.items())
    for department, step in steps[:-1]:
        act(process, step, people[department], {"verdict": "can_meet", **review_answers(department)}, meaning="reviewed")
    last_department, last_step = steps[-1]

    def broken(activation):
        raise RuntimeError("condition failed")

    monkeypatch.setattr(OrderReviewFlow.all_can_meet, "_condition", broken)
    with Context(propagate_exception=False):
        act(process, last_step, people[last_department], {"verdict": "can_meet", **review_answers(last_department)},
            meaning="reviewed")
    assert Task.objects.get(process=process, flow_task=getattr(OrderReviewFlow, last_step)).status == STATUS.DONE
    gateway = Task.objects.get(process=process, flow_task=OrderReviewFlow.all_can_meet)
    assert gateway.status == STATUS.ERROR
    assert gateway.data["_exception"]["title"] == "condition failed"
