"""One authorisation entry point for records (STYLE: access_record)."""
from django.http import Http404

from .models import Record


def can_view_processes(user):
    return user.is_authenticated and (user.is_superuser or user.memberships.exists())


def records_visible_to(user):
    """Records a user may see: staff of any department see the records of the
    procedures they take part in; the whole registry is open to people with a
    department membership (a quality system is transparent inside the company),
    closed to users without one."""
    if not user.is_authenticated:
        return Record.objects.none()
    if can_view_processes(user):
        return Record.objects.all()
    return Record.objects.none()


def can_view_record(user, record):
    return records_visible_to(user).filter(pk=record.pk).exists()


def access_record(user, number):
    record = records_visible_to(user).filter(number=number).first()
    if record is None:
        raise Http404("No such record")
    return record
