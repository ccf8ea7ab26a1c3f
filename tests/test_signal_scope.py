"""The receivers that remember a task's or a process's loaded state (for the audit entry and the notifications of
its next save) are connected to tasks and processes, every flow's own process class included, and to no other
model: reading a user, a record or a deadline dispatches nothing (core.signals.connect_to_models)."""
from django.apps import apps
from django.db.models.signals import post_init
from viewflow.workflow.models import Process, Task

from core.models import Record
from inbox.models import TaskDeadline


def test_every_task_and_process_class_remembers_its_loaded_state_and_no_other_model_is_dispatched():
    flow_models = [model for model in apps.get_models() if issubclass(model, (Task, Process))]
    assert len(flow_models) > 2  # viewflow's two and the procedures' process classes
    assert all(post_init.has_listeners(model) for model in flow_models)
    assert not any(post_init.has_listeners(model) for model in (Record, TaskDeadline))
    for model in flow_models:
        instance = model()
        assert hasattr(instance, "_audit_before") and hasattr(instance, "_inbox_before"), model
