"""Browser views: the landing page's choice, the auditor's home, the grants page, evidence
bundles (request, progress, download), the disposition queue and the destruction approval.
Thin adapters over grants.py / bundles.py / retention.py."""
import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from core import audit, esign
from core.access import access_record, can_view_records, records_visible_to
from core.downloads import attach_filename
from core.errors import DomainError
from core.models import ACCOUNTABILITY_STATEMENT, AuditEntry, Record, RecordFile, Tombstone
from core.paging import page_of
from core.search import search_records
from core.views import positive_int

from . import bundles, grant_rules, grants, renditions, retention, signing, stray_sweeps
from .access import can_manage_grants, is_auditor
from .forms import ChangeGrantForm, GrantForm, ReasonForm, ScopeFields
from .models import AuditorGrant, EvidenceBundle, StraySweep


def _bundles_of(user):
    qs = EvidenceBundle.objects.select_related("created_by")
    return qs if user.is_superuser else qs.filter(created_by=user)


def _require_records(user):
    if not can_view_records(user):
        raise PermissionDenied


@login_required
def index(request):
    _require_records(request.user)
    public = signing.public_key_pem()
    return render(request, "evidence/index.html", {
        # newest first, a page at a time with their total (they were cut at 100 with no sign)
        "bundles": page_of(request, _bundles_of(request.user).order_by("-created_at", "-pk"), "page", anchor="bundles"),
        "public_key": public.decode(), "fingerprint": hashlib.sha256(public).hexdigest(),
        "can_dispose": retention.can_approve_disposition(request.user),
        "can_manage_files": stray_sweeps.can_manage(request.user),
    })


@login_required
@require_POST
def bundle_create(request):
    _require_records(request.user)
    visible = records_visible_to(request.user)
    if request.POST.get("scope") == "search":
        query = QueryDict(request.POST.get("query", ""))
        records = search_records(visible, query)
        described = {k: v for k, v in query.items()}
    else:
        ids = [int(i) for i in request.POST.getlist("record") if i.isdigit()]
        records = visible.filter(pk__in=ids)
        described = {"selected": len(ids)}
    try:
        bundle = bundles.request_bundle(actor=request.user, records=records, query=described,
                                        title=request.POST.get("title", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("qms:records:index")
    return redirect("qms:evidence:bundle", pk=bundle.pk)


@login_required
def bundle_detail(request, pk):
    _require_records(request.user)
    bundle = get_object_or_404(_bundles_of(request.user), pk=pk)
    public = signing.public_key_pem()
    return render(request, "evidence/bundle.html", {
        "bundle": bundle, "building": bundle.status in (EvidenceBundle.Status.QUEUED, EvidenceBundle.Status.BUILDING),
        "fingerprint": hashlib.sha256(public).hexdigest()})


@login_required
def bundle_download(request, pk):
    _require_records(request.user)
    bundle = get_object_or_404(_bundles_of(request.user), pk=pk, status=EvidenceBundle.Status.DONE)
    with transaction.atomic():
        audit.log("evidence.bundle_downloaded", bundle, actor=request.user,
                  new={"sha256": bundle.sha256, "size": bundle.size})
    try:
        handle = open(bundle.file_path, "rb")
    except OSError:
        raise Http404(_("The bundle file is no longer available."))
    response = attach_filename(FileResponse(handle, content_type="application/zip"), bundle.filename, attachment=True)
    response["X-Content-SHA256"] = bundle.sha256
    return response


@login_required
def public_key(request):
    return HttpResponse(signing.public_key_pem(), content_type="application/x-pem-file")


#: rows per page of the disposition queue and of the tombstones
DISPOSITION_PAGE = 50
#: an auditor's own grants per page (their home), and a grant's history entries per page
GRANTS_PAGE = 10
HISTORY_PAGE = 50


def _require_disposer(user):
    if not retention.can_approve_disposition(user):
        raise PermissionDenied


@login_required
def disposition_queue(request):
    _require_disposer(request.user)
    years = retention.retention_table()
    # both lists a page at a time, each with its total (issue 15: nothing silently cut; they were cut at 500 and
    # 100 with no sign); each keeps its own page in the address (?page=, ?tombstones=)
    due = page_of(request, retention.past_retention(), size=DISPOSITION_PAGE, anchor="due")
    rows = []
    for record in due:
        kept = years.get(record.record_type, retention.default_years())
        rows.append({"record": record, "type": grant_rules.record_type_title(record.record_type), "years": kept,
                     "ends": retention.retention_ends(record, kept)})
    tombstones = page_of(request, Tombstone.objects.select_related("approved_by").order_by("-destroyed_at", "-pk"),
                         "tombstones", size=DISPOSITION_PAGE, anchor="tombstones")
    for tombstone in tombstones:
        tombstone.type_title = grant_rules.record_type_title(tombstone.record_type)
    kept_by_type = sorted(((grant_rules.record_type_title(code), code, kept) for code, kept in years.items()),
                          key=lambda row: str(row[0]))
    return render(request, "evidence/disposition.html", {
        "rows": rows, "due": due, "years": kept_by_type, "tombstones": tombstones})


@login_required
def disposition_approve(request, number):
    _require_disposer(request.user)
    record = get_object_or_404(Record, number=number)
    error = None
    if request.method == "POST":
        try:
            retention.destroy_record(record, actor=request.user, password=request.POST.get("password", ""),
                                     reason=request.POST.get("reason", ""))
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, _("%(number)s was destroyed; its tombstone remains.") % {"number": number})
            return redirect("qms:evidence:disposition")
    return render(request, "evidence/destroy.html", {
        "record": record, "error": error, "ends": retention.retention_ends(record),
        "years": retention.retention_years(record.record_type)}, status=400 if error else 200)


# --- a record's stored files and their renditions (evidence.renditions) ---------------------------------------

FILES_PAGE = 10  # versions a page: each page reads its versions' newest files to check them


@login_required
@require_http_methods(["GET", "POST"])
def record_files(request, number):
    """Every file stored for a record's versions, with its SHA-256, each version's newest files read to say
    whether every viewer draws them; where one does not, the Quality manager adds a corrected rendering (POST:
    version, reason)."""
    _require_records(request.user)
    record = access_record(request.user, number)
    may_correct = renditions.can_add_rendition(request.user)
    error, error_version = None, None
    if request.method == "POST":
        version = record.versions.filter(version=positive_int(request.POST.get("version"))).first()
        if version is None:
            raise Http404("No such version")
        try:
            added = renditions.add_corrected_rendition(version, actor=request.user,
                                                       reason=request.POST.get("reason", ""))
        except DomainError as exc:
            error, error_version = exc, version.version
        else:
            messages.success(request, _("%(number)s v%(version)s: corrected rendering %(rendition)s added; the "
                                        "earlier files are kept.") % {
                "number": record.number, "version": version.version, "rendition": added[0].rendition})
            query = f"?{request.GET.urlencode()}" if request.GET else ""
            return redirect(f"{request.path}{query}#v{version.version}-files")
    destroyed = hasattr(record, "tombstone")
    page = page_of(request, record.versions.order_by("-version").prefetch_related("files__rendered_by"), "page",
                   size=FILES_PAGE, anchor="files")
    for version in page:
        version.stored = list(version.files.all())
        newest = RecordFile.newest(version.stored)
        checks = {} if destroyed else {f.pk: renditions.check_file(f) for f in newest.values()}
        for file in version.stored:
            file.check = checks.get(file.pk)  # None: an earlier rendition (or a destroyed record's file)
        version.needs_correction = any(check.needs_correction for check in checks.values())
    return render(request, "evidence/record_files.html", {
        "record": record, "versions": page, "destroyed": destroyed, "may_correct": may_correct,
        "error": error, "error_version": error_version, "reason": request.POST.get("reason", ""),
    }, status=error.status_code if error else 200)


# --- the landing page and the auditor's home -------------------------------------------------------------------


@login_required
def landing(request):
    """Where "/" (and the application's index) leads after sign-in: an auditor to their home, or — with no
    current grant — to a page that says so; everyone else to their task dashboard."""
    user = request.user
    if is_auditor(user):
        if can_view_records(user):
            return redirect("qms:auditor:index")
        # 200, not 403: a page about the auditor's own access (Turbo shows a failed answer to the login
        # form without moving to "/"); every other page answers them 403
        grants = _own_grants(request)
        return render(request, "evidence/auditor_inactive.html", {"grants": _grant_rows(grants), "grants_page": grants})
    return redirect("qms:dashboard:index")


def _own_grants(request):
    """The auditor's own grants (but those of a role that ended), latest window first, a page at a time (?grants=;
    they were cut at 20 with no sign)."""
    own = AuditorGrant.objects.filter(user=request.user, role_ended_at__isnull=True).select_related("granted_by")
    return page_of(request, own.order_by("-valid_from", "-pk"), "grants", size=GRANTS_PAGE, anchor="grant")


def _grant_rows(grant_list, now=None):
    """Each grant with its status and the titles of its record types (the reader's language)."""
    now = now or timezone.now()
    return [{"grant": grant, "status": grant.status(now),
             "record_types": [grant_rules.record_type_title(code) for code in grant.record_types]}
            for grant in grant_list]


def _require_auditor(user):
    if not is_auditor(user):
        raise PermissionDenied


@login_required
def auditor_home(request):
    """The auditor's home: what the grant covers and until when, the records it shows (by type, each a
    registry search), the document register, and the auditor's own evidence bundles."""
    user = request.user
    _require_auditor(user)
    counts = (records_visible_to(user).order_by().values("record_type").annotate(n=Count("pk")))
    record_rows = sorted(({"code": row["record_type"], "title": grant_rules.record_type_title(row["record_type"]),
                           "count": row["n"]} for row in counts), key=lambda row: str(row["title"]))
    page = page_of(request, EvidenceBundle.objects.filter(created_by=user).order_by("-created_at", "-pk"), "page",
                   size=10, anchor="bundles")
    grants = _own_grants(request)
    return render(request, "evidence/auditor_home.html", {
        "grants": _grant_rows(grants), "grants_page": grants, "record_rows": record_rows,
        "record_total": sum(row["count"] for row in record_rows), "bundles": page,
    })


# --- the grants page (administrators) ----------------------------------------------------------------------------

EVENTS = {
    "access.auditor_granted": gettext_lazy("Access granted"),
    "access.auditor_changed": gettext_lazy("Window or scope changed"),
    "access.auditor_revoked": gettext_lazy("Access revoked"),
    "access.auditor_role_ended": gettext_lazy("Auditor role ended"),
}


def _require_grant_admin(user):
    if not can_manage_grants(user):
        raise PermissionDenied


@login_required
def grants_index(request):
    _require_grant_admin(request.user)
    qs = AuditorGrant.objects.select_related("user", "granted_by").order_by("-created_at", "-pk")
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    if query:
        qs = qs.filter(Q(user__username__icontains=query) | Q(user__display_name__icontains=query))
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "evidence/grants.html", {"page": page, "rows": _grant_rows(page.object_list),
                                                    "query": query})


@login_required
def grant_new(request):
    _require_grant_admin(request.user)
    form = GrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = grants.grant_auditor_access(form.cleaned_data["user"], granted_by=request.user,
                                                reason=form.cleaned_data["reason"], **form.scope())
        except DomainError as error:
            _add_domain_error(form, error)
        else:
            messages.success(request, _("%(name)s is now an auditor.") % {"name": grant.user.printed_name})
            return redirect("qms:auditor_grants:detail", pk=grant.pk)
    return render(request, "evidence/grant_form.html", {"form": form}, status=400 if form.errors else 200)


def _add_domain_error(form, error):
    for field, messages_ in (error.field_errors or {}).items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)
    if not error.field_errors:
        form.add_error(None, error.message)


def _history(request, grant):
    """The grant's audit trail: granted, changed (what, from, to), revoked, and the end of the user's role; oldest
    first, a page at a time (?history=; it was cut at 50 with no sign)."""
    labels = {name: field.label for name, field in ScopeFields.base_fields.items()}
    entries = (AuditEntry.objects.filter(Q(object_type="evidence.auditorgrant", object_id=str(grant.pk))
                                         | Q(object_type="auditor", object_id=str(grant.user_id),
                                             action="access.auditor_role_ended"))
               .select_related("actor").order_by("seq"))
    entries = page_of(request, entries, "history", size=HISTORY_PAGE, anchor="grant-history")
    rows = []
    for entry in entries:
        changes = [(labels.get(field, field), _shown(field, old), _shown(field, (entry.new_values or {}).get(field)))
                   for field, old in (entry.old_values or {}).items()]
        rows.append({"entry": entry, "event": EVENTS.get(entry.action, entry.action), "changes": changes})
    return rows, entries


def _shown(field, value):
    """An audited old or new value as the page shows it (datetimes are stored as ISO text)."""
    if field == "record_types":
        return ", ".join(str(grant_rules.record_type_title(code)) for code in value or []) or _("all record types")
    if value in (None, ""):
        return "—"
    moment = parse_datetime(value) if field in ("valid_from", "valid_until") and isinstance(value, str) else None
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment and timezone.is_aware(moment) else value


def _detail(request, grant, *, change=None, revoke=None, end_role=None, status=200):
    history, history_page = _history(request, grant)
    return render(request, "evidence/grant_detail.html", {
        "grant": grant, "row": _grant_rows([grant])[0], "history": history, "history_page": history_page,
        "change_form": change or ChangeGrantForm(grant), "revoke_form": revoke or ReasonForm(prefix="revoke"),
        "end_role_form": end_role or ReasonForm(prefix="end"),
    }, status=status)


@login_required
def grant_detail(request, pk):
    """The grant, its history, and the forms that change its window or scope (POST here), revoke it,
    or end its user's auditor role."""
    _require_grant_admin(request.user)
    grant = get_object_or_404(AuditorGrant.objects.select_related("user", "granted_by"), pk=pk)
    if request.method != "POST":
        return _detail(request, grant)
    form = ChangeGrantForm(grant, request.POST)
    if form.is_valid():
        changes = form.changes()
        if not changes:
            form.add_error(None, _("Nothing was changed."))
        else:
            try:
                grants.change_auditor_access(grant, changed_by=request.user, reason=form.cleaned_data["reason"],
                                             **changes)
            except DomainError as error:
                _add_domain_error(form, error)
            else:
                messages.success(request, _("The grant was changed."))
                return redirect("qms:auditor_grants:detail", pk=grant.pk)
    return _detail(request, grant, change=form, status=400)


@login_required
@require_POST
def grant_revoke(request, pk):
    _require_grant_admin(request.user)
    grant = get_object_or_404(AuditorGrant.objects.select_related("user", "granted_by"), pk=pk)
    form = ReasonForm(request.POST, prefix="revoke")
    if form.is_valid():
        try:
            grants.revoke_auditor_access(grant, revoked_by=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _add_domain_error(form, error)
        else:
            messages.success(request, _("The grant was revoked."))
            return redirect("qms:auditor_grants:detail", pk=grant.pk)
    return _detail(request, grant, revoke=form, status=400)


@login_required
@require_POST
def grant_end_role(request, pk):
    _require_grant_admin(request.user)
    grant = get_object_or_404(AuditorGrant.objects.select_related("user", "granted_by"), pk=pk)
    form = ReasonForm(request.POST, prefix="end")
    if form.is_valid():
        try:
            grants.end_auditor_role(grant.user, actor=request.user, reason=form.cleaned_data["reason"])
        except DomainError as error:
            _add_domain_error(form, error)
        else:
            messages.success(request, _("%(name)s is no longer an auditor.") % {"name": grant.user.printed_name})
            return redirect("qms:auditor_grants:detail", pk=grant.pk)
    return _detail(request, grant, end_role=form, status=400)


# --- stored files that no record names (evidence.stray_sweeps; administrators) ------------------------------------

STRAY_PAGE = 50  # files a page, in each of the page's three lists
OUTCOME = "stray_files_outcome"  # the session key of the last removal's outcome, file by file


def _require_file_admin(user):
    if not stray_sweeps.can_manage(user):
        raise PermissionDenied


def _stray_rows(rows):
    for row in rows:
        row = dict(row)
        row["written"] = parse_datetime(row["modified"])
        if row.get("kept"):
            row["kept_label"] = stray_sweeps.KEPT_LABELS.get(row["kept"], row["kept"])
        if row.get("removed"):
            row["removed_at"] = parse_datetime(row["removed"]["at"])
        yield row


@login_required
@require_http_methods(["GET", "HEAD"])
def stray_files(request):
    return _stray_files_page(request)


def _stray_files_page(request, error=None, selected=(), status=200):
    """What the newest look at the storage found: the files left by a write that was cut off (selected and removed
    here, password and reason given), those kept as evidence and why, those removed since; and the look under way,
    or a button to look again."""
    _require_file_admin(request.user)
    sweep = stray_sweeps.latest()
    by_state = {name: [] for name in stray_sweeps.STATES}
    for row in _stray_rows(sweep.files if sweep else []):
        by_state[stray_sweeps.state(row)].append(row)
    kept = page_of(request, by_state["kept"], "kept", size=STRAY_PAGE, anchor="kept")
    because = stray_sweeps.explain_rows(kept.object_list)
    for row in kept.object_list:
        row["kept_because"] = because[row["name"]]
    return render(request, "evidence/stray_files.html", {
        "sweep": sweep, "counts": {name: len(rows) for name, rows in by_state.items()} if sweep else None,
        "under_way": stray_sweeps.under_way(), "failed": stray_sweeps.last_failed(sweep),
        "removable": page_of(request, by_state["removable"], "page", size=STRAY_PAGE, anchor="removable"),
        "kept": kept,
        "removed": page_of(request, by_state["removed"], "removed", size=STRAY_PAGE, anchor="removed"),
        # the statement to accept before the first signature, where it has not been (the password counts as one)
        "accountability": None if esign.has_accepted_accountability(request.user) else ACCOUNTABILITY_STATEMENT,
        "error": error, "selected": set(selected), "reason": request.POST.get("reason", "") if error else "",
        "outcome": request.session.pop(OUTCOME, None) if request.method == "GET" else None,
    }, status=status)


@login_required
@require_POST
def stray_files_look(request):
    _require_file_admin(request.user)
    stray_sweeps.request_sweep(actor=request.user)
    messages.success(request, _("The storage is being looked through; this page shows what it finds."))
    return redirect("qms:evidence:stray_files")


@login_required
@require_POST
def stray_files_remove(request, pk):
    _require_file_admin(request.user)
    sweep = get_object_or_404(StraySweep, pk=pk, status=StraySweep.Status.DONE)
    names = request.POST.getlist("file")
    if request.POST.get("accept_accountability"):
        esign.accept_accountability(request.user)
    try:
        results = stray_sweeps.remove_files(sweep, names, actor=request.user, password=request.POST.get("password", ""),
                                            reason=request.POST.get("reason", ""))
    except DomainError as exc:
        return _stray_files_page(request, error=exc, selected=names, status=exc.status_code)
    removed = [name for name, entry, _refusal in results if entry is not None]
    if removed:
        messages.success(request, ngettext("%(n)d file removed; the audit trail records it.",
                                           "%(n)d files removed; the audit trail records each one.",
                                           len(removed)) % {"n": len(removed)})
    # what became of each file, shown once on the page the browser is sent to (a snackbar shows one message)
    request.session[OUTCOME] = [{"name": name, "entry": entry.seq if entry else None, "refusal": refusal}
                                for name, entry, refusal in results]
    return redirect("qms:evidence:stray_files")
