"""One authorisation entry point for records (STYLE: access_record)."""
from django.http import Http404

from .models import Record


def can_view_processes(user):
    return user.is_authenticated and (user.is_superuser or user.memberships.exists())


def can_view_records(user):
    """The records registry: department members, and auditors while their grant is active."""
    from evidence.access import active_grants, is_auditor

    if not user.is_authenticated:
        return False
    if is_auditor(user) and not user.is_superuser:
        return bool(active_grants(user))
    return can_view_processes(user) or _team_records(user).exists()


def _team_records(user):
    """P3 / 8D D1: the CAPA reports whose team a user is on, visible to them even
    without a department membership."""
    from procedures.capa.actions import records_of_teams

    return records_of_teams(user)


def records_visible_to(user):
    """Records a user may see: staff of any department see the records of the
    procedures they take part in; the whole registry is open to people with a
    department membership (a quality system is transparent inside the company),
    closed to users without one. An auditor sees only what an active grant covers
    (its time window, record types and date range)."""
    from evidence.access import active_grants, grant_filter, is_auditor

    if not user.is_authenticated:
        return Record.objects.none()
    if is_auditor(user) and not user.is_superuser:
        grants = active_grants(user)
        return Record.objects.filter(grant_filter(grants)) if grants else Record.objects.none()
    if can_view_processes(user):
        return Record.objects.all()
    return Record.objects.filter(pk__in=_team_records(user))


def can_view_record(user, record):
    return records_visible_to(user).filter(pk=record.pk).exists()


def access_record(user, number):
    record = records_visible_to(user).filter(number=number).first()
    if record is None:
        raise Http404("No such record")
    return record
