"""Drives P1 through the action functions (the same ones the views and the API call)."""
from django.test import TestCase
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflows import actions
from workflows.demo import DEMO_PASSWORD
from procedures.order_review.flows import OrderReviewFlow
from procedures.order_review.seed import review_answers

REVIEW_STEPS = {"market": "review_market", "quality": "review_quality", "production": "review_production",
                "engineering": "review_engineering", "materials": "review_materials"}


def review_data(department, **data):
    """A department review's answers for the API or a form: each requirement category (REQ-2) and, for
    Market, its opinions (src 6.3.8) — but not Materials' readiness, which a test states; a test's data wins."""
    answers = review_answers(department)
    answers.pop("material_readiness", None)
    return {**answers, **data}


def start(user, data):
    node = OrderReviewFlow.start
    with TestCase.captureOnCommitCallbacks(execute=True):
        return actions.start_process(node, actor=user, form=node.make_form(data=data, api=True))


def open_task(process, step):
    return Task.objects.filter(process=process, flow_task=getattr(OrderReviewFlow, step)) \
        .exclude(status__in=[STATUS.DONE, STATUS.CANCELED]).get()


def sign(meaning, reason="", password=DEMO_PASSWORD):
    return actions.SignatureInput(password=password, meaning=meaning, reason=reason)


def act(process, step, user, data, meaning=None, reason="", password=DEMO_PASSWORD):
    if step.startswith("review_"):
        # what every review answers besides what a test is about: each requirement category (REQ-2) and,
        # for Market, its opinion on delivery date, price and packaging (src 6.3.8); a test's data wins
        defaults = review_answers(step.removeprefix("review_"))
        defaults.pop("material_readiness", None)
        data = {**defaults, **data}
    task = open_task(process, step)
    actions.claim_task(task, actor=user)
    task.refresh_from_db()
    node = task.flow_task
    form = node.make_form(data=data, api=True, activation=node.activation_class(task), user=user)
    # on-commit callbacks (Celery jobs) run as they would after a real commit
    with TestCase.captureOnCommitCallbacks(execute=True):
        return actions.complete_step(task, actor=user, form=form,
                                   signature_input=sign(meaning, reason, password) if meaning else None)


def review_all(process, people, verdicts=None, departments=REVIEW_STEPS):
    verdicts = verdicts or {}
    for department, step in departments.items():
        verdict = verdicts.get(department, "can_meet")
        data = {"verdict": verdict, "comment": "" if verdict == "can_meet" else "交期需延后两周 needs 2 more weeks",
                **review_answers(department)}
        act(process, step, people[department], data, meaning="reviewed")


def start_and_review_committed(people, order_data, *, approve=False):
    """A P1 process reviewed by every department (and approved, if asked), each step committed as in
    production: nothing captures the on-commit callbacks, so a real Celery worker runs the jobs."""
    node = OrderReviewFlow.start
    process = actions.start_process(node, actor=people["market"], form=node.make_form(data=order_data(), api=True))
    steps = [*REVIEW_STEPS.items(), *([("approve", "approve")] if approve else [])]
    for department, step in steps:
        user = people["market_mgr" if department == "approve" else department]
        task = open_task(process, step)
        actions.claim_task(task, actor=user)
        task.refresh_from_db()
        data = {"conclusion": "同意 OK"} if department == "approve" else {"verdict": "can_meet",
                                                                        **review_answers(department)}
        form = task.flow_task.make_form(data=data, api=True, activation=task.flow_task.activation_class(task),
                                        user=user)
        actions.complete_step(task, actor=user, form=form,
                              signature_input=sign("approved" if department == "approve" else "reviewed"))
    return process
