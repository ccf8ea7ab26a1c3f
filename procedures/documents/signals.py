from django.db.models.signals import post_save
from django.dispatch import receiver
from viewflow.workflow.models import Process

from .binding import procedure_in_force
from .models import ProcessProcedure


@receiver(post_save)
def record_procedure_revision(sender, instance, created, **kwargs):
    """Every new process records the revision of the procedure it runs under."""
    if not created or not isinstance(instance, Process) or instance.flow_class is None:
        return
    revision = procedure_in_force(instance.flow_class)
    if revision is not None:
        ProcessProcedure.objects.create(process=instance, revision=revision)
