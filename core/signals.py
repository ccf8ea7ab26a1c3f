"""Connecting a receiver to the models it is about rather than to every model of the project.

A `post_init` receiver connected without a sender runs, and has Django dispatch to it, for every row any query
reads — users, records, deadlines, catalogue rows — although it only remembers the loaded state of tasks and
processes. Connected per model, every other model's instances skip the dispatch (Django caches "no receivers"
for a sender). The models are those installed that derive from `bases`, proxies included (a flow's process
class), found once the app registry is ready."""
from django.apps import apps


def connect_to_models(signal, receiver, bases, dispatch_uid):
    """Connect `receiver` to `signal` for each installed model that is, or derives from, one of `bases` (a
    tuple of model classes); call it from an AppConfig.ready()."""
    for model in apps.get_models():
        if issubclass(model, bases):
            signal.connect(receiver, sender=model, dispatch_uid=(dispatch_uid, model._meta.label))
