"""Browser pages for absences and delegation, and a manager's task reassignment.
Thin adapters over inbox.delegation: no rule lives here."""
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError
from viewflow.workflow.models import Task

from core.access import can_view_processes
from core.errors import DomainError
from core.paging import page_of
from core.rest.keyset import Key, Keyset

from . import delegation as service
from .rows import attach_subjects, subject_of
from accounts.models import User


def _require_member(user):
    if not can_view_processes(user):
        raise PermissionDenied


def _people(queryset):
    return queryset.filter(is_active=True).order_by("username")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user.printed_name} ({user.username})"


class DelegationForm(forms.Form):
    delegator = PersonChoiceField(label=gettext_lazy("absent person"), queryset=User.objects.none(), required=False)
    substitute = PersonChoiceField(label=gettext_lazy("substitute"), queryset=User.objects.none())
    starts_on = forms.DateField(label=gettext_lazy("absent from"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    ends_on = forms.DateField(label=gettext_lazy("absent until (inclusive)"),
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=300,
                             help_text=gettext_lazy("e.g. annual leave, business trip"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        members = User.objects.filter(memberships__isnull=False).distinct()
        self.fields["substitute"].queryset = _people(members)
        if user.is_superuser:
            managed = _people(members)
        else:
            managed = _people(members.filter(memberships__department__in=service.managed_departments(user)))
        if managed.exclude(pk=user.pk).exists():
            self.fields["delegator"].queryset = _people(User.objects.filter(Q(pk=user.pk) | Q(pk__in=managed)))
            self.fields["delegator"].help_text = _("Leave empty for your own absence.")
        else:
            del self.fields["delegator"]

    def absent_person(self):
        return self.cleaned_data.get("delegator") or self.user


def apply_errors(error, form):
    for field, errors in error.field_errors.items():
        for message in errors:
            form.add_error(field if field in form.fields else None, message)


def _sections(request, manages):
    """My absences, those I substitute in, and the others I may see (my departments' people, those I recorded):
    each newest first and a page at a time with its total (?mine=, ?substituting=, ?others=; they were cut at 300
    together with no sign)."""
    user = request.user
    visible = service.delegations_visible_to(user).order_by("-starts_on", "-pk")
    sections = {"mine": visible.filter(delegator=user), "substituting": visible.filter(substitute=user)}
    if manages:  # the others are shown to managers (and administrators) only
        sections["others"] = visible.exclude(delegator=user).exclude(substitute=user)
    pages = {name: page_of(request, rows, name, anchor=f"delegations-{name}") for name, rows in sections.items()}
    for page in pages.values():
        for d in page:
            d.state = service.state_of(d)
            d.state_label = service.STATE_LABELS[d.state]
            d.cancellable = d.state in (service.State.ACTIVE, service.State.UPCOMING) and service.can_cancel(user, d)
    return pages


@login_required
def index(request):
    """My absences, where I substitute, and (for managers) my department's absences; the form to add one."""
    _require_member(request.user)
    form = DelegationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            service.create_delegation(
                delegator=form.absent_person(), substitute=form.cleaned_data["substitute"],
                starts_on=form.cleaned_data["starts_on"], ends_on=form.cleaned_data["ends_on"],
                reason=form.cleaned_data["reason"], actor=request.user)
        except DomainError as error:
            apply_errors(error, form)
            messages.error(request, error.message)
        else:
            messages.success(request, _("Absence saved."))
            return redirect("qms:delegations:index")
    status = 400 if request.method == "POST" else 200
    manages = bool(service.managed_departments(request.user)) or request.user.is_superuser
    return render(request, "inbox/delegations.html", {
        "form": form, **_sections(request, manages), "current": service.active_delegation(request.user),
        "manages": manages,
    }, status=status)


@login_required
@require_POST
def cancel(request, pk):
    _require_member(request.user)
    delegation = get_object_or_404(service.delegations_visible_to(request.user), pk=pk)
    try:
        service.cancel_delegation(delegation, actor=request.user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Absence cancelled."))
    return redirect("qms:delegations:index")


#: the team's open tasks, oldest first, a page at a time
TEAM_TASK_ORDER = Keyset("team-tasks", [Key("created"), Key("pk")])


def _open_tasks_managed_by(user, request):
    """One page of the open tasks `user` may reassign, as task rows (inbox/_task_rows.html) with
    the owner's absence and whom they work for; and the address of the next page (or None)."""
    try:
        page = TEAM_TASK_ORDER.page(service.tasks_managed_by(user).select_related("deadline"), request, size=100)
    except ValidationError:  # a stale or altered ?cursor=: the first page
        page = TEAM_TASK_ORDER.page(service.tasks_managed_by(user).select_related("deadline"), size=100)
    tasks = []
    for task in page.rows:
        if service.can_reassign(user, task):
            task.absence = service.active_delegation(task.owner) if task.owner_id else None
            task.on_behalf_of = service.acting_for(task, task.owner) if task.owner_id else None
            tasks.append(task)
    more = f"?cursor={page.next_cursor}" if page.next_cursor else None
    return attach_subjects(tasks), page.count, more


@login_required
def team_tasks(request):
    """A manager's view of the open tasks of their departments, to reassign them."""
    _require_member(request.user)
    if not (request.user.is_superuser or service.managed_departments(request.user)):
        raise PermissionDenied
    tasks, total, more = _open_tasks_managed_by(request.user, request)
    return render(request, "inbox/team_tasks.html", {"tasks": tasks, "total": total, "more": more,
                                                     "now": timezone.now()})


class ReassignForm(forms.Form):
    user = PersonChoiceField(label=gettext_lazy("new owner"), queryset=User.objects.none())
    reason = forms.CharField(label=gettext_lazy("reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, task, **kwargs):
        super().__init__(*args, **kwargs)
        candidates = service.reassign_candidates(task)
        self.fields["user"].queryset = User.objects.filter(pk__in=[u.pk for u in candidates]).order_by("username")


@login_required
def reassign(request, task_pk):
    """GET: the task and the reassignment form; POST: reassign (inbox.delegation.reassign_task)."""
    _require_member(request.user)
    task = Task.objects.select_related("owner", "process").filter(pk=task_pk).first()
    if task is None or not hasattr(task.flow_task, "form_class"):
        raise Http404("No such task")
    if not service.manages_task(request.user, task):
        raise PermissionDenied
    form = ReassignForm(request.POST or None, task=task)
    error = None
    if request.method == "POST":
        if form.is_valid():
            try:
                service.reassign_task(task, actor=request.user, new_owner=form.cleaned_data["user"],
                                      reason=form.cleaned_data["reason"])
            except DomainError as exc:
                apply_errors(exc, form)
                error = exc.message
            else:
                messages.success(request, _("Task reassigned to %(name)s.") % {"name": form.cleaned_data["user"]})
                return redirect("qms:delegations:team_tasks")
        else:
            error = _("Please correct the errors below.")
    return render(request, "inbox/reassign.html", {
        "task": task, "node": task.flow_task, "form": form, "error": error, "subject": subject_of(task),
        "open": service.can_reassign(request.user, task),
        "on_behalf_of": service.acting_for(task, task.owner) if task.owner_id else None,
    }, status=400 if error else 200)
