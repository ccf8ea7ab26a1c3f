"""What the procedures register into the engine, in their AppConfig.ready(), so that the
engine finds them without importing them (core imports no procedure):

- `register_procedure(Procedure(...))`: the app's flows (browser pages, inboxes, the API's
  task endpoints), its API routes, extra pages, demo seed and who may see its records;
- `register(RecordType(...))`: each controlled record type — number prefix, bilingual title,
  the controlled form (number + revision) it is made on, its PDF template and the snapshot
  verify_audit rebuilds from the working tables;
- `register_status_labels(...)`: the labels of the statuses its records use."""
import sys
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass(frozen=True)
class RecordType:
    code: str
    prefix: str
    title_zh: str
    title_en: str
    form_code: str
    form_revision: str
    pdf_template: str
    # Rebuilds the record's data from the working tables; verify_audit compares it
    # with the latest version to catch edits that bypassed the actions.
    snapshot: Optional[Callable] = field(default=None, compare=False)
    copies: tuple = ()  # e.g. ("财务 Finance", ...) printed as marked copies
    # (version) → extra template context derived from the version's data as of its date (e.g. which
    # actions were overdue then): a rule that prints lives in its procedure, not in the template.
    pdf_context: Optional[Callable] = field(default=None, compare=False)
    # How the record page and the history API name what changed between versions (core.diffs):
    # {"order_date": ("订单日期", "Order date"), "rounds[].reviews[].comment": ("意见", "Comment"),
    #  "rounds[].reviews[].department_zh": None (hidden: derived), "rounds[]": ("第 {} 轮评审", "Review round {}")}
    # — paths of the version data, "[]" for the items of a list; a "<list>[]" entry names one item.
    field_labels: dict = field(default_factory=dict, compare=False)
    # How the items of a list are matched between versions: {"rounds": "number", "rounds[].reviews": "department"}
    # (unnamed lists are matched by position).
    list_keys: dict = field(default_factory=dict, compare=False)
    # How a value prints: {"order_date": "date", "kind": "OrderKind" (a BilingualChoices), "lines[].quantity":
    # "number", "status": "status"}; booleans, ISO dates and date-times are recognised without it.
    field_formats: dict = field(default_factory=dict, compare=False)
    # Fields that say where the process stands (status, an action's progress): they move on after a
    # signature without changing what was signed (Record.changed_after_first_signature ignores them).
    state_fields: frozenset = field(default_factory=frozenset, compare=False)

    @property
    def title(self):
        return f"{self.title_zh} {self.title_en}"


@dataclass(frozen=True)
class Procedure:
    """A procedure app, as the engine sees it."""

    label: str  # the Django app label
    flows: tuple  # its viewflow Flow classes; the first one's title names it in the menu
    icon: str = "assignment"  # material icon of its menu entry
    order: int = 100  # menu order
    seed_order: int = 100  # demo seeding order (document control first: the other records print its forms)
    api: str = ""  # dotted path of a module whose `urlpatterns` are mounted under /api/
    viewsets: tuple = ()  # dotted paths of extra viewflow Viewset classes (e.g. the document register)
    seed: str = ""  # dotted path of `seed(people)` → a line to print or None: the demo of `manage.py seed_demo`
    # dotted path of a second demo step that needs the other procedures' demo data (e.g. a P1 order of a customer
    # whose specific requirement P5 seeded): run after every procedure's `seed`, in seeding order
    late_seed: str = ""
    # records a user sees without a department membership (e.g. an 8D team member): user → record ids
    team_records: Optional[Callable] = field(default=None, compare=False)


_PROCEDURES: dict[str, Procedure] = {}


def register_procedure(procedure: Procedure):
    _PROCEDURES[procedure.label] = procedure
    return procedure


def procedures():
    """Every registered procedure, in menu order."""
    return sorted(_PROCEDURES.values(), key=lambda p: (p.order, p.label))


def flows():
    """Every flow the engine runs."""
    return [flow_class for procedure in procedures() for flow_class in procedure.flows]


_REGISTRY: dict[str, RecordType] = {}
# the module that registered each record type: register_status_labels() without record types scopes the
# labels to the record types its calling module (or that module's package) registered
_TYPE_MODULES: dict[str, str] = {}


def _caller_module(depth=2):
    return sys._getframe(depth).f_globals.get("__name__", "")


def _package(module):
    return module.rpartition(".")[0] or module


def register(record_type: RecordType):
    _REGISTRY[record_type.code] = record_type
    _TYPE_MODULES[record_type.code] = _caller_module()
    return record_type


def get(code) -> RecordType:
    return _REGISTRY[code]


def all_types():
    return list(_REGISTRY.values())


# Document control (procedures app) tells which form revision is in force for a
# record type; without it, the revision declared here is used.
_form_resolver = None


def set_form_resolver(resolver):
    global _form_resolver
    _form_resolver = resolver


def form_in_force(record_type: RecordType):
    """(form number, form revision) under which a record of this type is made now."""
    if _form_resolver is not None:
        resolved = _form_resolver(record_type)
        if resolved:
            return resolved
    return record_type.form_code, record_type.form_revision


# The forms app renders a record version's HTML (its PDF template, forms.pdf.render_html); the record page
# shows the same content on screen. Without it (forms not installed) the page lists the history only.
_record_renderer = None


def set_record_renderer(renderer):
    global _record_renderer
    _record_renderer = renderer


def render_record_html(version):
    """The HTML document of `version` as its PDF prints it, or None."""
    return _record_renderer(version) if _record_renderer is not None else None


# Document control also tells how long a record type is kept (the retention period of the blank
# form that governs it, DOC-11); without it, None: the retention default applies.
_retention_resolver = None


def set_retention_resolver(resolver):
    global _retention_resolver
    _retention_resolver = resolver


def retention_years(record_type_code):
    return _retention_resolver(record_type_code) if _retention_resolver is not None else None


# Status labels for the record pages: each app registers the TextChoices its records use. Two record types
# may use one code for different things ("approved" of an order is not "approved" of a document revision),
# so the labels are kept per record type; the first label registered for a code is the fallback for a
# caller that names no record type.
_STATUS_LABELS = {}
_TYPE_STATUS_LABELS: dict = {}  # record type code → {status code: label}
_SCOPE_STATUS_LABELS: dict = {}  # registering module's package → {status code: label} (the default scope)


def register_status_labels(choices, record_types=None):
    """The labels of `choices` for the record types `record_types` (codes); by default for the record types
    registered by the calling module's package (a procedure's records.py registers its types and their
    statuses)."""
    for value, label in choices.choices:
        _STATUS_LABELS.setdefault(value, label)
        if record_types is None:
            _SCOPE_STATUS_LABELS.setdefault(_package(_caller_module()), {}).setdefault(value, label)
        else:
            for code in record_types:
                _TYPE_STATUS_LABELS.setdefault(code, {}).setdefault(value, label)


def status_label(code, record_type=None):
    """The label of status `code` as `record_type` (a code or RecordType) names it; without one, the first
    label registered for the code."""
    if record_type is not None:
        type_code = getattr(record_type, "code", record_type)
        own = _TYPE_STATUS_LABELS.get(type_code, {})
        if code in own:
            return own[code]
        module = _TYPE_MODULES.get(type_code)
        scoped = _SCOPE_STATUS_LABELS.get(_package(module), {}) if module else {}
        if code in scoped:
            return scoped[code]
    return _STATUS_LABELS.get(code, code)


# How the record page tells what an audit entry did, in the reader's language (core.diffs): each app
# registers the texts of its own actions, e.g. {"order_review.received": Sentence(_("registered order
# %(order_number)s"))}, and of the reasons its record versions are stored with ("order received").
@dataclass(frozen=True)
class Sentence:
    """A translatable text with %(name)s placeholders filled from an audit entry's new values (or a
    version reason's named groups); `formats` says how a value prints ({"verdict": "Verdict"}, see
    RecordType.field_formats)."""

    text: object
    formats: dict = field(default_factory=dict, compare=False)


_ACTION_TEXTS: dict = {}
_VERSION_REASONS: dict = {}


def register_action_texts(texts):
    """{"app.action": Sentence | lazy text}."""
    for action, text in texts.items():
        _ACTION_TEXTS[action] = text if isinstance(text, Sentence) else Sentence(text)


def action_text(action):
    return _ACTION_TEXTS.get(action)


def register_version_reasons(reasons):
    """{"order received": Sentence | lazy text} — exact reasons; a key starting with "^" is a regular
    expression whose named groups fill the text's placeholders ("^(?P<department>[a-z]+) review, round
    (?P<round>[0-9]+)$")."""
    for reason, text in reasons.items():
        _VERSION_REASONS[reason] = text if isinstance(text, Sentence) else Sentence(text)


def version_reasons():
    return _VERSION_REASONS
