"""Who is acting: set by the request middleware, by actions and by Celery tasks,
read by the audit signal handlers that record viewflow's own task transitions."""
import threading
from contextlib import contextmanager

_state = threading.local()


def current_actor():
    return getattr(_state, "actor", None)


@contextmanager
def acting_as(user):
    previous = getattr(_state, "actor", None)
    _state.actor = user
    try:
        yield
    finally:
        _state.actor = previous


def triggered_by():
    """The person whose action set off what the system is doing now (acting_as_system), or None."""
    return getattr(_state, "trigger", None)


def system_actor():
    """The account the system acts as inside acting_as_system, or None."""
    return getattr(_state, "system", None)


@contextmanager
def acting_as_system(system):
    """An automatic step (a flow's Function, If, Join, End; a hold released when a disposition completes):
    the system acts as the `system` account (accounts.models.scheduler_user); the person acting until now
    is remembered as the one who triggered it (core.audit.log notes them as `triggered_by`)."""
    previous = (getattr(_state, "actor", None), getattr(_state, "trigger", None), getattr(_state, "system", None))
    person = previous[0]
    _state.trigger = previous[1] if person is None or person == previous[2] else person
    _state.actor, _state.system = system, system
    try:
        yield system
    finally:
        _state.actor, _state.trigger, _state.system = previous


def is_system(actor):
    """Whether `actor` is the system: no person, or the account the system acts as now."""
    return actor is None or (system_actor() is not None and actor == system_actor())


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with acting_as(user if user is not None and user.is_authenticated else None):
            return self.get_response(request)
