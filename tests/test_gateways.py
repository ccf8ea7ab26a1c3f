"""workflows/gateways.py: a gateway reached from a person's step takes no savepoint of its own — its
error rolls the whole step back, nothing half-done; reached from a background trigger it keeps
viewflow's savepoint, so the error is recorded on the gateway task and the rest is kept. A gateway task is
written once (already done, linked to the task before it); a join's task is inserted already started and its
incoming tasks read once per arrival — and the tasks and links they leave are viewflow's own."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
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
    assert isinstance(OrderReviewFlow.reviews_done, gateways.Join)
    import importlib
    import pkgutil

    import procedures
    from viewflow.workflow import flow as stock
    from workflows.quorum import QuorumJoin

    flows = []
    for module in pkgutil.iter_modules(procedures.__path__):
        try:
            flows_module = importlib.import_module(f"procedures.{module.name}.flows")
        except ModuleNotFoundError:
            continue
        flows += [v for v in vars(flows_module).values()
                  if isinstance(v, type) and hasattr(v, "instance") and v.__module__ == flows_module.__name__]
    assert len(flows) >= 6
    for flow_class in flows:
        for node in flow_class.instance.nodes():
            assert type(node) not in (stock.If, stock.Switch, stock.Split, stock.Join), \
                f"{flow_class.__name__}.{node.name} is viewflow's own {type(node).__name__}"
    assert issubclass(QuorumJoin, gateways.Join)


def _task_writes(queries):
    return [q["sql"] for q in queries if q["sql"].startswith(("INSERT INTO \"viewflow_task\"",
                                                               "UPDATE \"viewflow_task\""))]


def test_gateways_and_joins_are_written_once_and_linked_as_viewflow_links_them(people, order_data):
    process = start(people["market"], order_data(number="PO-GW-0"))
    steps = list(REVIEW_STEPS.items())
    join = OrderReviewFlow.reviews_done
    for index, (department, step) in enumerate(steps):
        with CaptureQueriesContext(connection) as queries:
            act(process, step, people[department], {"verdict": "can_meet", **review_answers(department)},
                meaning="reviewed")
        joins = Task.objects.filter(process=process, flow_task=join)
        assert joins.count() == 1
        task = joins.get()
        reviews = Task.objects.filter(process=process, flow_task__in=[getattr(OrderReviewFlow, s) for _d, s in steps],
                                      status=STATUS.DONE)
        assert set(task.previous.all()) == set(reviews)  # each arrival linked
        if index == 0:  # the first arrival: one INSERT, already started, no UPDATE of the join
            assert task.status == STATUS.STARTED and task.started is not None
            writes = [sql for sql in _task_writes(queries.captured_queries) if "reviews_done" in sql]
            assert len(writes) == 1 and writes[0].startswith("INSERT"), writes
    assert task.status == STATUS.DONE and task.finished is not None
    # the If after the join and the gateways after it: each inserted once, done, linked to the task before it
    gate = Task.objects.get(process=process, flow_task=OrderReviewFlow.all_can_meet)
    assert gate.status == STATUS.DONE and gate.finished is not None
    assert list(gate.previous.all()) != [] and all(p.status == STATUS.DONE for p in gate.previous.all())
    assert not [sql for sql in _task_writes(queries.captured_queries)
                if sql.startswith("UPDATE") and "all_can_meet" in sql], "the If gateway was written twice"
    assert Task.objects.filter(process=process, previous=gate).exists()  # and the next task links back to it


def test_a_join_reads_its_branch_again_when_a_task_was_saved_after_its_lookup(people, order_data):
    """The join reads its branch's open tasks with its own lookup (one statement); viewflow runs the join after
    the other activations of the same pass, which may add or finish tasks of the branch: once any task is saved
    after the lookup, the join reads the branch again, as viewflow does, instead of trusting what it read."""
    from django.db import transaction

    process = start(people["market"], order_data(number="PO-GW-J"))
    reviews = {step: Task.objects.get(process=process, flow_task=getattr(OrderReviewFlow, step))
               for step in REVIEW_STEPS.values()}
    arriving = reviews.pop("review_quality")
    join = OrderReviewFlow.reviews_done
    with transaction.atomic():
        arriving.status = STATUS.DONE
        arriving.save()
        activation = join.activation_class.create(join, arriving.flow_task.activation_class(arriving), arriving.token)
        (prefix,) = activation._join_token_prefixes()
        with CaptureQueriesContext(connection) as queries:
            assert {t.pk for t in activation._active_join_tasks(prefix)} == {t.pk for t in reviews.values()}
        assert len(queries) == 0  # read with the lookup
        # another activation of the pass finishes the other reviews (as their steps would): read again
        for task in reviews.values():
            task.status = STATUS.DONE
            task.save()
        fresh = join.activation_class(activation.task)
        fresh.__dict__.update({k: v for k, v in activation.__dict__.items() if k.startswith("_qms_")})
        fresh.__dict__.pop("_qms_active", None)
        with CaptureQueriesContext(connection) as queries:
            assert not fresh._active_join_tasks(prefix).exists()
        assert len(queries) == 1
        assert fresh.is_done()
        transaction.set_rollback(True)


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


def test_a_timer_is_written_once_already_scheduled_and_still_fires(people):
    """P4: the last approval reaches the 'effective date' timer — one INSERT, scheduled, linked to the join
    before it (the If after the approvals' join), no UPDATE and no savepoint; when due, viewflow's timer sweep fires it and the process goes on."""
    import datetime

    from django.utils import timezone

    from p4_support import fire_timers
    from procedures.documents.flows import DocumentControlFlow
    from test_quorum import approve, make_approvers, node_tasks, set_rule, to_approval

    approvers = make_approvers(1)
    set_rule(people)
    process = to_approval(people)
    with CaptureQueriesContext(connection) as queries:
        approve(process, approvers[0], effective=timezone.localdate() + datetime.timedelta(days=3))
    [timer] = node_tasks(process, "wait_until_effective")
    assert timer.status == STATUS.SCHEDULED and timer.scheduled > timezone.now()
    [before] = timer.previous.all()
    assert before.status == STATUS.DONE and before.flow_task_type == "EXCLUSIVE_GATEWAY"  # the "approved?" If
    assert Task.objects.filter(process=process, flow_task=DocumentControlFlow.approvals_done, status=STATUS.DONE).exists()
    writes = [sql for sql in _task_writes(queries.captured_queries) if "wait_until_effective" in sql]
    assert len(writes) == 1 and writes[0].startswith("INSERT"), writes
    assert not any(q["sql"].startswith("SAVEPOINT") for q in queries.captured_queries[-12:])
    Task.objects.filter(pk=timer.pk).update(scheduled=timezone.now() - datetime.timedelta(minutes=1))
    assert fire_timers() == 1
    timer.refresh_from_db()
    assert timer.status == STATUS.DONE
    assert Task.objects.filter(process=process, previous=timer).exists()


def test_a_fan_out_is_written_once_unless_its_data_source_keys_on_it(people, monkeypatch):
    """A FanOut (one task per item of its data source) is written once, already done, like the Split; a quorum's
    data source keys its round on the split task (quorum.seats asks `saved_task()`), so that one is written
    first, as viewflow writes it — the round then names a task that exists and is done."""
    from p3_support import FLOW, p3_drivers, raise_data, skip_rendering, walk_to_actions
    from test_quorum import make_approvers, node_tasks, set_rule, to_approval

    skip_rendering(monkeypatch)
    drive = p3_drivers()["api"]()
    with CaptureQueriesContext(connection) as queries:
        walk_to_actions(drive, drive.start("quality", raise_data(reference="IPQC-GW-F")))
    writes = [sql for sql in _task_writes(queries.captured_queries) if "CapaFlow.actions'" in sql]
    assert len(writes) == 1 and writes[0].startswith("INSERT"), writes
    [fan_out] = Task.objects.filter(flow_task=FLOW.actions)
    assert fan_out.status == STATUS.DONE and fan_out.finished is not None
    assert fan_out.previous.exists()  # linked to the plan approval before it
    actions = Task.objects.filter(flow_task=FLOW.do_action)
    assert actions.count() == 2 and all(list(t.previous.all()) == [fan_out] for t in actions)

    make_approvers(2)
    set_rule(people)
    process = to_approval(people)
    [split] = node_tasks(process, "approvals")
    assert split.status == STATUS.DONE
    seats = node_tasks(process, "approve")
    assert len(seats) == 2 and {seat.data["quorum"]["round"] for seat in seats} == {split.pk}
    assert all(list(seat.previous.all()) == [split] for seat in seats)


def test_arrivals_of_one_pass_share_one_join_written_once(people, order_data):
    """A join created by a person's step waits unwritten until the pass runs it: a second arrival of the same pass
    joins the same activation; a join found in the database takes the arriving pass's process object (what the
    pass creates after it shares it, and finds what it left pending)."""
    from django.db import transaction

    process = start(people["market"], order_data(number="PO-GW-P"))
    reviews = [Task.objects.select_related("process").get(process=process, flow_task=getattr(OrderReviewFlow, step))
               for step in REVIEW_STEPS.values()]
    join = OrderReviewFlow.reviews_done
    with transaction.atomic():
        for task in reviews[:2]:
            task.status = STATUS.DONE
            task.save()
        shared = reviews[0].process
        first, second = reviews[0], reviews[1]
        second.process = shared  # one pass: its activations carry one process object
        activation = join.activation_class.create(join, first.flow_task.activation_class(first), first.token)
        again = join.activation_class.create(join, second.flow_task.activation_class(second), second.token)
        assert again is activation and activation.task.pk is None and len({activation, again}) == 1
        assert not Task.objects.filter(process=process, flow_task=join).exists()
        activation.activate()
        assert activation.is_done() is False  # three reviews of the branch are still open
        written = Task.objects.get(process=process, flow_task=join)  # so it is written, for them to find
        assert written.status == STATUS.STARTED and set(written.previous.all()) == {first, second}
        third = reviews[2]
        third.status = STATUS.DONE
        third.save()
        third.process = Task.objects.get(pk=third.pk).process  # read apart from the pass that finds the join
        found = join.activation_class.create(join, third.flow_task.activation_class(third), third.token)
        assert found.task.pk == written.pk and found.task.process is third.process
        transaction.set_rollback(True)
