"""The table every list of open tasks draws (inbox, queue, dashboard, a manager's team tasks): subject, step, due
date, days overdue, age, holder, then what to do — the columns of inbox/rows.py, in that order, so they read the
same everywhere; and the dashboard's other two, the tasks I completed (also the archive page) and the processes I
started (also their paged list). A narrow screen shows each row as a card of labelled lines (each cell's data-label).

Drawn here rather than by a template: the template engine resolved some thirty variables and filters per row,
0.3 ms a row — the larger part of the dashboard page (three tables of ten rows) and of the inbox and queue pages at
a plant's size (issue 15). _html escapes every value as format_html and the template did; the labels are translated
once per table, in the reader's language. templates/inbox/_task_rows.html, _completed_rows.html and
_process_rows.html call them ({% task_table %}, {% completed_table %}, {% process_table %}); a flow's board, its
cards ({% board_cards %})."""
import html

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise, cached_property
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from . import rows
from .escalation import task_link


def _escaped(value):
    """django.utils.html.conditional_escape without the lazy-argument wrapper of its `escape` (keep_lazy, which
    inspects every argument of every call): the same string for a lazy translation, safe HTML (its __html__),
    or any other value (html.escape of its str)."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _html(format_string, *args):
    """django.utils.html.format_html, each argument escaped by _escaped: the same safe string, 2–3× faster on a
    row of some twenty values (a dashboard formats about 230 such strings)."""
    return SafeString(format_string.format(*map(_escaped, args)))


def _html_join(sep, format_string, args_generator):
    """django.utils.html.format_html_join with _html."""
    return SafeString(_escaped(sep).join(_html(format_string, *args) for args in args_generator))


def _day(value):
    """A date, or an aware datetime's day in the current time zone, as the template's `date` filter prints it with
    "Y-m-d" (digits only: the same in every language), without the filter's general formatter (30–75 µs a call on
    a slow machine, some hundred calls a dashboard)."""
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _minute(value):
    """An aware datetime in the current time zone as the `date` filter prints it with "Y-m-d H:i"."""
    value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}"


_STAND_IN = 10**17 + 3  # a number no address holds otherwise


def _address_of(name):
    """A function giving reverse(name, args=[pk]) for any pk: reversed once per table with a stand-in number, then
    filled in (as inbox.escalation.task_link does for a step's page), instead of once per row."""
    pattern, stand_in = reverse(name, args=[_STAND_IN]), str(_STAND_IN)
    return lambda pk: pattern.replace(stand_in, str(pk))


def _bad_badge(text):
    return _html(' <span class="qms-badge qms-badge--bad">{}</span>', text)


def _step(node):
    return node.task_title or node.name


def _column_labels():
    return {"subject": _("Subject"), "step": _("Step"), "due": _("Due"), "late": _("Days overdue"), "age": _("Age"),
            "owner": _("Owner"), "action": _("Action")}


def _head(labels, table_id, due_sort):
    state = (due_sort or {}).get("state")
    if due_sort:
        arrow = {"asc": " ▲", "desc": " ▼"}.get(state, "")
        due = _html('<a href="{}" class="qms-sort" id="{}-sort-due">{}{}</a>', due_sort["url"], table_id,
                    labels["due"], arrow)
    else:
        due = labels["due"]
    aria = {"asc": "ascending", "desc": "descending"}.get(state, "none")
    return _html(
        '<thead><tr>\n    <th scope="col">{}</th>\n    <th scope="col">{}</th>\n'
        '    <th scope="col" aria-sort="{}">{}</th>\n    <th scope="col" class="qms-num">{}</th>\n'
        '    <th scope="col">{}</th>\n    <th scope="col">{}</th>\n'
        '    <th scope="col"><span class="qms-sr">{}</span></th>\n  </tr></thead>',
        labels["subject"], labels["step"], aria, due, labels["late"], labels["age"], labels["owner"], labels["action"])


class _Row:
    """What one table needs for each of its rows, worked out once per table."""

    def __init__(self, *, now, table_id, user_id, csrf_token, action):
        self.now, self.table_id, self.user_id, self.action = now, table_id, user_id, action
        self.labels = _column_labels()
        self.overdue_badge = _bad_badge(_("Overdue"))
        self.csrf = _html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token) \
            if csrf_token else ""
        self.open_label, self.claim_label, self.reassign_label = _("Open"), _("Claim and open"), _("Reassign")

    @cached_property
    def reassign_url(self):
        return _address_of("qms:delegations:reassign")

    @cached_property
    def claim_url(self):
        return _address_of("qms:dashboard:claim")

    def due(self, task, late):
        deadline = getattr(task, "deadline", None)  # a task without a due date raises an AttributeError
        if deadline is None:
            return "-"
        return _html("{}{}", _day(deadline.due_date), self.overdue_badge if late else "")

    def holder(self, task):
        text = _html("{}", rows.holder_text(task))
        if self.action != "reassign":
            return text
        absence, on_behalf_of = getattr(task, "absence", None), getattr(task, "on_behalf_of", None)
        if absence:
            text += _bad_badge(_("absent until %(end)s") % {"end": _day(absence.ends_on)})
        if on_behalf_of:
            text += _html('<br><span class="qms-help">{}</span>',
                          _("on behalf of %(name)s") % {"name": on_behalf_of.printed_name})
        return text

    def what_to_do(self, task):
        if self.action == "reassign":
            return _html('<a class="qms-button" href="{}" id="reassign-{}">{}</a>',
                         self.reassign_url(task.pk), task.pk, self.reassign_label)
        if task.owner_id and task.owner_id == self.user_id:
            return _html('<a class="qms-button" href="{}">{}</a>', task_link(task), self.open_label)
        if not task.owner_id:
            return _html(
                '<form method="post" action="{}" data-turbo="false" class="qms-claim">{}<button type="submit" '
                'class="qms-button qms-button--primary" id="{}-claim-{}">{}</button></form>',
                self.claim_url(task.pk), self.csrf, self.table_id, task.pk, self.claim_label)
        return ""

    def __call__(self, task):
        labels, late = self.labels, rows.days_overdue(task, self.now)
        node = task.flow_task
        return _html(
            '<tr id="{}-task-{}" data-row-id="{}">\n'
            '    <td data-label="{}"><a href="{}" class="qms-subject">{}</a>\n'
            '      <br><span class="qms-help">{} #{}/{}</span></td>\n'
            '    <td data-label="{}">{}</td>\n'
            '    <td data-label="{}">{}</td>\n'
            '    <td data-label="{}" class="qms-num">{}</td>\n'
            '    <td data-label="{}" title="{}">{}</td>\n'
            '    <td data-label="{}">{}</td>\n'
            '    <td data-label="{}">{}</td>\n  </tr>',
            self.table_id, task.pk, task.pk,
            labels["subject"], task_link(task), getattr(task, "subject", ""),
            node.flow_class.process_title, task.process_id, task.pk,
            labels["step"], _step(node),
            labels["due"], self.due(task, late),
            labels["late"], _html('<span class="qms-bad">{}</span>', late) if late else "-",
            labels["age"], _minute(task.created), rows.age_text(task, self.now),
            labels["owner"], self.holder(task),
            labels["action"], self.what_to_do(task))


def task_table(tasks, *, table_id, now=None, user=None, csrf_token=None, action=None, due_sort=None, empty=None):
    """The HTML table of `tasks` (each with .subject, inbox.rows.attach_subjects; their process, deadline and owner
    read with them): its id `table_id`; `now` for the due and age columns; `user` (the reader: "Open" on their own
    tasks, "Claim and open" on unclaimed ones, with `csrf_token`); action="reassign" for a manager's team tasks;
    due_sort {url, state} makes the Due header sort the list; `empty` is said when there is no row."""
    now = now or timezone.now()
    row = _Row(now=now, table_id=table_id, user_id=getattr(user, "pk", None), csrf_token=csrf_token, action=action)
    body = _html_join("", "{}", ((row(task),) for task in tasks)) if tasks else _html(
        '<tr><td colspan="7">{}</td></tr>', empty or _("Nothing here."))
    return _html('<table class="qms-table qms-task-table" id="{}">\n  {}\n  <tbody>{}</tbody>\n</table>',
                 table_id, _head(row.labels, table_id, due_sort), body)


def completed_table(tasks, *, table_id):
    """The tasks a person completed (the dashboard's newest, the archive page): what each was about, linked to the
    task's page, its procedure and numbers, the step, when it was completed. `tasks` with .subject."""
    subject, step, completed = _("Subject"), _("Step"), _("Completed")
    rows_html = _html_join("", (
        '<tr id="{}-task-{}">\n      <td data-label="{}"><a href="{}" class="qms-subject">{}</a><br>'
        '<span class="qms-help">{} #{}/{}</span></td>\n      <td data-label="{}">{}</td>\n'
        '      <td data-label="{}">{}</td></tr>'), (
        (table_id, task.pk, subject, task_link(task), getattr(task, "subject", ""),
         task.flow_task.flow_class.process_title, task.process_id, task.pk,
         step, _step(task.flow_task),
         completed, _minute(task.finished) if task.finished else "") for task in tasks))
    body = rows_html or _html('<tr><td colspan="3">{}</td></tr>', _("Nothing here."))
    return _html(
        '<table class="qms-table qms-cards" id="{}">\n    <thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th></tr></thead>\n    <tbody>{}</tbody>\n</table>',
        table_id, subject, step, completed, body)


def _where_it_stands(process, now):
    """Each open step of `process` with who holds it and its due date ("-" when none)."""
    steps = []
    for task in process.open_steps:
        deadline = getattr(task, "deadline", None)
        due = _html(", {} {}{}", _("due"), _day(deadline.due_date),
                    _bad_badge(_("Overdue")) if deadline.due_at <= now else "") if deadline is not None else ""
        steps.append(_html("{} ({}{})", _step(task.flow_task), rows.holder_text(task), due))
    return _html_join("; ", "{}", ((step,) for step in steps)) if steps else "-"


def process_table(processes, *, table_id, now=None):
    """The processes a person started (the dashboard's newest, the paged list of them all): subject, when it
    started, its status, and where it stands (inbox.services.where_they_stand: .subject and .open_steps)."""
    now = now or timezone.now()
    subject, started, status, stands = _("Subject"), _("Started"), _("Status"), _("Where it stands")
    address = _address_of("qms:dashboard:process")
    rows_html = _html_join("", (
        '<tr>\n      <td data-label="{}"><a href="{}">{}</a><br><span class="qms-help">{} #{}</span></td>\n'
        '      <td data-label="{}">{}</td>\n      <td data-label="{}">{}</td>\n      <td data-label="{}">{}</td>\n'
        '    </tr>'), (
        (subject, address(process.pk), process.subject,
         process.flow_class.process_title, process.pk, started, _minute(process.created),
         status, process.get_status_display(), stands, _where_it_stands(process, now)) for process in processes))
    body = rows_html or _html('<tr><td colspan="4">{}</td></tr>', _("Nothing here."))
    return _html(
        '<table class="qms-table qms-cards" id="{}">\n    <thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col">{}</th></tr></thead>\n    <tbody>{}</tbody>\n</table>',
        table_id, subject, started, status, stands, body)


def board_cards(tasks, *, closed=False, empty=None):
    """The cards of a column of a flow's board (workflows.flow_pages.board; {% board_cards %} in
    viewflow/workflow/process_dashboard.html): each task's subject, linked to the task's own page, its numbers,
    and when it was created and who holds it — or, `closed`, when it closed; `empty` is said when there is none.
    `tasks` with .subject (inbox.rows.attach_subjects) and their owner read with them. A board of seven steps
    draws some 130 cards: drawn here, as the task tables are, instead of by a template (about 8 variables and
    filters a card)."""
    if not tasks:
        return _html('\n\n<p class="qms-help qms-board-empty">{}</p>\n\n',
                     empty if empty is not None else _("No open tasks."))
    card = ('\n<div class="mdc-card qms-board-card" id="board-task-{}">\n'
            '  <h3 class="qms-board-card__title"><a href="{}" class="qms-subject">{}</a></h3>\n'
            '  <span class="qms-help">#{}/{}</span>\n  \n')
    detail = '    <div class="vf-dashboard__card-detail"><span class="qms-board-card__label">{}</span> {}</div>\n'
    if closed:
        label = _("Closed")
        cards = _html_join("", card + detail + "  \n</div>\n", (
            (task.pk, task_link(task), getattr(task, "subject", ""), task.process_id, task.pk,
             label, _minute(task.finished) if task.finished else "") for task in tasks))
    else:
        created, owner = _("Created"), _("Owner")
        cards = _html_join("", card + detail + detail + "  \n</div>\n", (
            (task.pk, task_link(task), getattr(task, "subject", ""), task.process_id, task.pk,
             created, _minute(task.created), owner, rows.holder_text(task)) for task in tasks))
    return _html("\n{}\n", cards)
