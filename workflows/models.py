"""A process's artifact: the working-data row it is about (an order review, a complaint
case …), held in viewflow's generic `Process.artifact`. The engine's one way to attach and
read it, cached on the process object so a page or a step reads it once."""
import itertools

from django.contrib.contenttypes.models import ContentType


#: set on a process while workflows.actions.start_process runs its start step: the start's activation saves the
#: whole process right after the step (viewflow's StartActivation.execute), so what the step sets on it is
#: written then, in the same transaction, not by an UPDATE of its own first
SAVED_BY_START = "_qms_saved_by_start"


def attach_artifact(process, obj):
    process.artifact_content_type = ContentType.objects.get_for_model(obj)
    process.artifact_object_id = obj.pk
    process._artifact = obj
    if not getattr(process, SAVED_BY_START, False):
        process.save(update_fields=["artifact_content_type", "artifact_object_id"])


def artifact_of(process, model, select_related=()):
    """The process's artifact when it is a `model` row, else None (no query for the type:
    content types are cached)."""
    cached = getattr(process, "_artifact", None)
    if isinstance(cached, model):
        return cached
    if not process.artifact_object_id or not process.artifact_content_type_id:
        return None
    if ContentType.objects.get_for_id(process.artifact_content_type_id).model_class() is not model:
        return None
    artifact = model.objects.select_related(*select_related).get(pk=process.artifact_object_id)
    process._artifact = artifact
    return artifact


def artifact_ref(process, model):
    """The process's `model` artifact as a reference by key (no query; only its pk may be used), the same
    object for as long as the process object lives: an action that locks the row keeps its locked copy on
    it for the gateways that follow (procedures/complaints, procedures/capa)."""
    ref = getattr(process, "_artifact_ref", None)
    if type(ref) is not model or ref.pk != process.artifact_object_id:
        ref = process._artifact_ref = model(pk=process.artifact_object_id)
    return ref


class LockedCopies:
    """The copies one procedure's actions lock and change, each kept on the reference the action was
    given (artifact_ref) for the gateways that follow on the same process: a kept copy is the row as it
    is now for as long as those actions take no other lock (in this worker process; a step runs in one).
    One per procedure, shared by all its actions; `generation` changes with every lock taken."""

    def __init__(self):
        self._count = itertools.count(1)
        self.generation = 0

    def taken(self):
        """A lock was taken (of any row these actions change): every copy kept before may be out of date."""
        self.generation = next(self._count)
        return self.generation

    def keep(self, ref, locked):
        """`locked` was just read under a lock for `ref`; it is the copy the action changes and saves."""
        ref.__dict__["_qms_locked"] = (self.taken(), locked)
        return locked

    def current(self, ref):
        """The copy kept on `ref` when no lock was taken since, else None (read the row)."""
        kept = ref.__dict__.get("_qms_locked")
        return kept[1] if kept is not None and kept[0] == self.generation else None


def artifacts_of(processes, model, select_related=(), prefetch_related=(), only=()):
    """{process pk: its artifact} for those of `processes` whose artifact is a `model` row, in
    one query (plus one per prefetch) however many processes: for lists. Read only: unlike
    artifact_of(), nothing is cached on the processes (a flow running on one of them keeps the
    artifact it has). `only`: the fields the caller reads (QuerySet.only, "record__number" for a
    related row's), where it reads a few of many: a list's subjects print three names from rows of
    a hundred columns and more, whose reading took most of their time."""
    content_type = ContentType.objects.get_for_model(model)
    wanted = {}  # artifact pk → its processes (a P1 change runs on the order review it changes)
    for process in processes:
        if process.artifact_object_id and process.artifact_content_type_id == content_type.pk:
            wanted.setdefault(process.artifact_object_id, []).append(process)
    if not wanted:
        return {}
    rows = model.objects.filter(pk__in=list(wanted)).select_related(*select_related).prefetch_related(
        *prefetch_related)
    if only:
        rows = rows.only(*only)
    found = {}
    for artifact in rows:
        for process in wanted[artifact.pk]:
            found[process.pk] = artifact
    return found
