"""viewflow's If and Switch gateways, with a savepoint only where it is of use.

viewflow evaluates a gateway's condition inside a savepoint so that, when the gateway was reached
from a background trigger (a job, a timer: `propagate_exception=False`), a failing condition can be
rolled back alone and recorded on the gateway task, the process left recoverable. When the gateway is
reached from a person's step (the default, `propagate_exception=True`) the error goes up to that
step, whose whole transaction rolls back: the savepoint only costs two statements per gateway on
every step (issue 15.4). These gateways take it only in the first case; behaviour is otherwise
viewflow's own."""
from django.db import transaction
from viewflow.workflow import flow
from viewflow.workflow.activation import Activation
from viewflow.workflow.context import context
from viewflow.workflow.exceptions import FlowRuntimeError
from viewflow.workflow.nodes.if_gate import IfActivation as ViewflowIfActivation
from viewflow.workflow.nodes.switch import SwitchActivation as ViewflowSwitchActivation


def _savepoint():
    """A savepoint when an error is kept on the task (background trigger), none when it propagates."""
    return not context.propagate_exception


class IfActivation(ViewflowIfActivation):
    @Activation.status.super()
    def activate(self):
        with self.exception_guard(), transaction.atomic(savepoint=_savepoint()):
            self._condition_result = self.flow_task._condition(self)


class SwitchActivation(ViewflowSwitchActivation):
    @Activation.status.super()
    def activate(self):
        with self.exception_guard(), transaction.atomic(savepoint=_savepoint()):
            for node, cond in self.flow_task._branches:
                if cond:
                    if cond(self):
                        self.next_task = node
                        break
                else:
                    self.next_task = node
            if not self.next_task:
                raise FlowRuntimeError("No next task available for {}".format(self.flow_task.name))


class If(flow.If):
    activation_class = IfActivation


class Switch(flow.Switch):
    activation_class = SwitchActivation
