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


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with acting_as(user if user is not None and user.is_authenticated else None):
            return self.get_response(request)
