"""A record's history as its readers read it: what changed between two versions, named with the
record type's field labels and matched item by item (a department's review with the same
department's review, a line with the same line number), whether a signed value was changed later,
and the audit trail as sentences — who did what, from what to what, why and when.

The labels, list keys and value formats are declared with each record type (core.registry.RecordType:
field_labels, list_keys, field_formats, state_fields); the audit sentences and version reasons are
registered by the apps that write them (registry.register_action_texts / register_version_reasons)."""
import datetime
import decimal
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from . import registry
from .choices import choices_named, in_language

SEPARATOR = " › "
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def is_empty(value):
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def text(label):
    """A label in the reader's language: a ("中文", "English") pair, or a (lazy) translatable string."""
    if isinstance(label, tuple):
        return str(in_language(*label))
    return str(label)


# --- values --------------------------------------------------------------------------------------


def _number(value):
    try:
        number = decimal.Decimal(str(value))
    except (decimal.InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    whole, _sep, fraction = format(abs(number).normalize(), "f").partition(".")
    return ("-" if number < 0 else "") + f"{int(whole):,}" + (f".{fraction}" if fraction else "")


def _moment(value):
    moment = value if isinstance(value, datetime.datetime) else parse_datetime(str(value).replace(" ", "T", 1))
    if moment is None:
        return str(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def _day(value):
    day = value if isinstance(value, datetime.date) else parse_date(str(value)[:10])
    return day.isoformat() if day else str(value)


def format_value(value, fmt=None):
    """How a stored value reads: "" for nothing, 是/否 Yes/No, dates, numbers, choice labels."""
    if callable(fmt) and value is not None:
        return str(fmt(value))
    if isinstance(value, list):
        return ", ".join(filter(None, (format_value(v, fmt) for v in value)))
    if isinstance(value, dict):
        return ", ".join(f"{format_value(v, fmt)}" for v in value.values() if not is_empty(v))
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or fmt == "bool":
        return _("Yes") if value else _("No")
    if fmt == "status":
        return str(registry.status_label(value))
    if fmt == "number":
        return _number(value)
    if fmt == "date":
        return _day(value)
    if fmt == "datetime":
        return _moment(value)
    if fmt == "bytes":
        return _("%(size)s bytes") % {"size": _number(value)}
    if fmt and fmt[0].isupper():
        try:
            return str(choices_named(fmt).label_of(value))
        except KeyError:  # the choices' app is not installed: the stored code
            return str(value)
    if isinstance(value, str):
        if _DATETIME.match(value):
            return _moment(value)
        if _DATE.match(value):
            return _day(value)
    return str(value)


# --- record data, leaf by leaf -------------------------------------------------------------------


@dataclass
class Leaf:
    key: str  # where it is in this record: rounds[1].reviews[quality].comment
    schema: str  # where it is in the record type: rounds[].reviews[].comment
    labels: tuple  # the label of each step, in the reader's language
    value: object
    order: tuple  # the record type's field order, then the items' order


@dataclass
class Spec:
    """The record type's labels, list keys, formats and state fields (empty for an unknown type)."""

    labels: dict = field(default_factory=dict)
    list_keys: dict = field(default_factory=dict)
    formats: dict = field(default_factory=dict)
    state_fields: frozenset = frozenset()
    code: str = ""  # the record type's code (its status labels)

    @classmethod
    def of(cls, record_type):
        try:
            rtype = registry.get(record_type) if isinstance(record_type, str) else record_type
        except KeyError:
            return cls()
        # "status": the record type's own status labels (registry.status_label is per record type)
        formats = {key: (lambda value, code=rtype.code: registry.status_label(value, code)) if fmt == "status" else fmt
                   for key, fmt in rtype.field_formats.items()}
        return cls(dict(rtype.field_labels), dict(rtype.list_keys), formats, frozenset(rtype.state_fields), rtype.code)

    def __post_init__(self):
        self._position = {schema: i for i, schema in enumerate(self.labels)}

    def key_fields(self, schema):
        """The fields that identify an item of the list at `schema` (none: by position)."""
        ident = self.list_keys.get(schema)
        return () if not ident else ((ident,) if isinstance(ident, str) else tuple(ident))

    def is_list_key(self, schema):
        parent, _sep, name = schema.rpartition("[].")
        return bool(parent) and name in self.key_fields(parent)

    def hidden(self, schema):
        return schema in self.labels and self.labels[schema] is None

    def label(self, schema, key):
        if self.labels.get(schema) is not None:
            return text(self.labels[schema])
        return key.replace("_", " ").capitalize()  # undeclared: its key, readable (tests/test_record_page checks)

    def item_label(self, schema, item, key_values, position):
        """(replaces the list's name, the name of one item): from a "rounds[]" pattern ("第 {} 轮评审": the
        item's key; "{position}": one of its fields, as it reads), else the item's key as it reads
        ("品质部"), after the list's name."""
        fields = self.key_fields(schema)
        shown = " · ".join(format_value(v, self.formats.get(f"{schema}[].{f}")) for f, v in zip(fields, key_values)) \
            if key_values else str(position)
        pattern = self.labels.get(schema + "[]")
        if pattern is None:
            return False, shown
        values = {name: format_value(item.get(name), self.formats.get(f"{schema}[].{name}"))
                  for name in re.findall(r"\{(\w+)\}", text(pattern))}
        return True, re.sub(r"\{(\w*)\}", lambda m: values.get(m.group(1), "") if m.group(1) else shown,
                            text(pattern))

    def position(self, schema):
        return self._position.get(schema, len(self._position))


def leaves(data, spec):
    """{key: Leaf} of every value in `data` (lists of objects item by item, keyed by the list's key)."""
    out = {}
    _walk(data if isinstance(data, dict) else {}, "", "", (), (), spec, out)
    return out


def _walk(value, key, schema, labels, order, spec, out):
    if isinstance(value, dict) and (schema == "" or value):
        for name, item in value.items():
            child = f"{schema}.{name}" if schema else name
            if spec.hidden(child):
                continue
            if spec.is_list_key(child):
                continue  # an item's key (a review's department): its label names the item already
            label = spec.label(child, name)
            _walk(item, f"{key}.{name}" if key else name, child, labels + ((label,) if label else ()),
                  order + (spec.position(child),), spec, out)
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        fields = spec.key_fields(schema)
        for position, item in enumerate(value, start=1):
            key_values = tuple(item.get(f) for f in fields)
            if not fields or any(v is None for v in key_values):
                key_values = ()
                item_key = f"{key}[#{position}]"
            else:
                item_key = f"{key}[{'/'.join(str(v) for v in key_values)}]"
            replaces, own = spec.item_label(schema, item, key_values, position)
            named = bool(spec.label(schema, schema.rpartition(".")[2]))  # the list's own name is in `labels`
            item_labels = (labels[:-1] if replaces and named and labels else labels) + (own,)
            _walk(item, item_key, schema + "[]", item_labels, order + (position,), spec, out)
    else:
        out[key] = Leaf(key, schema, labels, value, order)


def _same(old, new):
    if is_empty(old) and is_empty(new):
        return True
    return old == new


@dataclass
class Change:
    key: str
    label: str
    old: str
    new: str
    kind: str  # "added", "changed", "removed"

    def as_dict(self):
        return {"field": self.key, "label": self.label, "old": self.old, "new": self.new, "kind": self.kind}


def changes(before, after, spec):
    """What changed from `before` to `after` (version data), labelled and formatted."""
    old, new = leaves(before, spec), leaves(after, spec)
    found = []
    for key in list(new) + [k for k in old if k not in new]:
        was, now = old.get(key), new.get(key)
        old_value, new_value = (was.value if was else None), (now.value if now else None)
        if _same(old_value, new_value):
            continue
        leaf = now or was
        fmt = spec.formats.get(leaf.schema)
        kind = "added" if is_empty(old_value) else ("removed" if is_empty(new_value) else "changed")
        found.append((leaf.order, Change(key, SEPARATOR.join(leaf.labels), format_value(old_value, fmt),
                                         format_value(new_value, fmt), kind)))
    return [change for _order, change in sorted(found, key=lambda pair: pair[0])]


def unlabelled(data, spec):
    """The fields of `data` its record type names no label for (tests keep this empty)."""
    missing = set()
    for leaf in leaves(data, spec).values():
        parts = leaf.schema.split(".")
        for i in range(1, len(parts) + 1):
            path = ".".join(parts[:i])
            if path not in spec.labels and not spec.is_list_key(path) and not path.endswith("[]"):
                missing.add(path)
    return sorted(missing)


def status_text(code, record_type):
    """A record's status as its own type names it (two types may use one code for different things:
    "approved" is not "approved, awaiting the effective date" for an order)."""
    fmt = Spec.of(record_type).formats.get("status")
    return format_value(code, fmt) if fmt else str(registry.status_label(code, record_type))


# --- versions ------------------------------------------------------------------------------------


def is_system_user(user):
    return user is not None and user.username == settings.QMS.get("SCHEDULER_USERNAME", "qms-scheduler")


def system_name():
    return pgettext("who did it", "System")


def reason_text(reason):
    """A version's stored reason ("order received") in the reader's language, when it is a known one."""
    known = registry.version_reasons()
    sentence = known.get(reason)
    if sentence is not None:
        return str(sentence.text)
    for pattern, sentence in known.items():
        if pattern.startswith("^"):
            match = re.match(pattern, reason or "")
            if match:
                return fill(sentence, match.groupdict())
    return reason


def fill(sentence, values):
    """A Sentence's text with its placeholders filled from `values` (missing ones blank)."""
    source = str(sentence.text)
    names = set(re.findall(r"%\((\w+)\)s", source))
    shown = {name: format_value((values or {}).get(name), sentence.formats.get(name)) for name in names}
    return source % shown


@dataclass
class VersionEntry:
    version: object  # the RecordVersion
    reason: str
    by: str
    created: bool  # the empty first version a record is opened with
    initial: bool  # the first version with content: its "changes" are the whole record
    changes: list

    @property
    def number(self):
        return self.version.version


def history(versions, record_type):
    """Every version, oldest first, with its reason, author and changes from the version before."""
    spec = Spec.of(record_type)
    entries, before, had_content = [], {}, False
    for version in versions:
        data = version.data if isinstance(version.data, dict) else {}
        author = version.created_by
        entries.append(VersionEntry(
            version=version, reason=reason_text(version.reason),
            by=system_name() if is_system_user(author) else (author.printed_name if author else system_name()),
            created=not data and version.version == 1, initial=bool(data) and not had_content,
            changes=changes(before, data, spec) if had_content else []))
        had_content = had_content or bool(data)
        before = data
    return entries


def changed_after_signature(versions, signed_numbers, record_type):
    """SIG-16: whether a value of a signed version was changed or removed by a later version. Adding
    (a department's review, a signature block, an empty field filled in) is not a change; neither is
    the process moving on (the record type's state_fields)."""
    spec = Spec.of(record_type)
    signed = sorted(set(signed_numbers))
    if not signed:
        return False
    ordered = sorted(((v.version, v.data if isinstance(v.data, dict) else {}) for v in versions),
                     key=lambda pair: pair[0])
    flat = {number: leaves(data, spec) for number, data in ordered if number >= signed[0]}
    for number in signed:
        kept = {key: leaf.value for key, leaf in flat.get(number, {}).items()
                if not is_empty(leaf.value) and not _is_state(leaf.schema, spec)}
        for later, now in flat.items():
            if later <= number:
                continue
            for key, value in kept.items():
                if key not in now or now[key].value != value:
                    return True
    return False


def _is_state(schema, spec):
    return any(schema == s or schema.startswith((s + ".", s + "[]")) for s in spec.state_fields)


# --- the audit trail in sentences ------------------------------------------------------------------

_CORE_TEXTS = {
    "record.created": registry.Sentence(gettext_lazy("created the record on form %(form)s")),
    "record.version_created": registry.Sentence(gettext_lazy("added version %(version)s")),
    "record.status_changed": registry.Sentence(gettext_lazy("changed the status")),
    "record.rendered": registry.Sentence(gettext_lazy("rendered the %(kind)s of version %(version)s"),
                                         {"kind": lambda kind: _file_kind(kind)}),
    "record.downloaded": registry.Sentence(gettext_lazy("downloaded the %(kind)s of version %(version)s"),
                                           {"kind": lambda kind: _file_kind(kind)}),
    # a later rendition of a version's file (evidence.renditions): its entries carry "rendition"
    "record.rendered later": registry.Sentence(
        gettext_lazy("rendered a corrected %(kind)s of version %(version)s (rendition %(rendition)s)"),
        {"kind": lambda kind: _file_kind(kind)}),
    "record.downloaded later": registry.Sentence(
        gettext_lazy("downloaded the %(kind)s of version %(version)s (rendition %(rendition)s)"),
        {"kind": lambda kind: _file_kind(kind)}),
    "record.destroyed": registry.Sentence(gettext_lazy("destroyed the record at the end of its retention period")),
    # core.stray_files: a stored file that no row named, removed by an administrator
    "storage.stray_removed": registry.Sentence(
        gettext_lazy("removed the stored file %(file)s, which no record named (left by a write that was cut off)")),
    # evidence.stray_sweeps: a look at the storage for such files, asked for on the stored-files page or the API
    "storage.sweep_requested": registry.Sentence(gettext_lazy("asked for a look at the storage for files no record "
                                                              "names")),
    "storage.swept": registry.Sentence(gettext_lazy("looked through the storage: files no record names, to remove: "
                                                    "%(removable)s; kept as evidence: %(kept)s")),
    "storage.sweep_failed": registry.Sentence(gettext_lazy("could not look through the storage: %(error)s")),
    "esign.signed": registry.Sentence(gettext_lazy("signed version %(version)s: %(meaning)s, as %(role)s"),
                                      {"meaning": "Meaning"}),
    "process.started": registry.Sentence(gettext_lazy("started the process")),
    "process.cancelled": registry.Sentence(gettext_lazy("cancelled the process")),
    "task.completed": registry.Sentence(gettext_lazy("completed a step")),
}

# from → to of the values an entry changed: the keys that say something on their own
_CHANGE_LABELS = {
    "status": (gettext_lazy("status"), "status"),
    "quantity": (gettext_lazy("quantity"), "number"),
    "due_date": (gettext_lazy("due date"), "date"),
}


def _file_kind(value):
    return {"pdf": _("PDF"), "pdfa": _("PDF/A-3b archive copy")}.get(value, value or "")


@dataclass
class AuditLine:
    seq: int
    when: object
    who: str
    system: bool
    what: str
    changes: list  # [(label, old, new)]
    reason: str
    action: str
    trigger: str = ""  # a system step: the person whose action set it off

    @property
    def triggered(self):
        """"triggered by 王芳 Wang Fang" for a system step set off by a person, else ""."""
        return _("triggered by %(name)s") % {"name": self.trigger} if self.trigger else ""

    def as_dict(self):
        return {"seq": self.seq, "timestamp": self.when, "who": self.who, "system": self.system,
                "what": self.what, "changes": [{"label": l, "old": o, "new": n} for l, o, n in self.changes],
                "reason": self.reason, "action": self.action, "triggered_by": self.trigger}

    @property
    def sentence(self):
        """The whole line as plain text: "王芳 Wang Fang signed version 3: …; status: A → B; reason: …"."""
        parts = [_("%(who)s %(what)s") % {"who": self.who, "what": self.what}]
        if self.trigger:
            parts[0] += f" ({self.triggered})"
        for label, old, new in self.changes:
            parts.append(f"{label}: {old or '—'} → {new or '—'}")
        if self.reason:
            parts.append(_("reason: %(reason)s") % {"reason": self.reason})
        return "; ".join(parts)


def who(entry):
    """(name, is_system): the system for entries without a person or made by the scheduler account."""
    if entry.actor_id is None or is_system_user(entry.actor):
        return system_name(), True
    name = entry.actor_name or str(entry.actor)
    if entry.on_behalf_of_id:
        name = _("%(name)s on behalf of %(absent)s") % {"name": name, "absent": entry.on_behalf_of.printed_name}
    return name, False


def _what(entry):
    new = entry.new_values if isinstance(entry.new_values, dict) else {}
    sentence = registry.action_text(entry.action) or _CORE_TEXTS.get(entry.action)
    if entry.action in ("record.rendered", "record.downloaded") and new.get("rendition", 1) != 1:
        sentence = _CORE_TEXTS[f"{entry.action} later"]
    if sentence is None:
        return _("recorded “%(action)s”") % {"action": entry.action}
    if entry.action == "record.version_created" and new.get("version") == 1 and not new.get("changes"):
        return _("opened version 1 (no content yet)")
    return fill(sentence, new)


def _changes(entry, spec):
    old, new = entry.old_values, entry.new_values
    if not isinstance(old, dict) or not isinstance(new, dict) or entry.action == "record.version_created":
        return []
    rows = []
    for key, (label, fmt) in _CHANGE_LABELS.items():
        if key == "status" and entry.action == "record.status_changed":
            fmt = spec.formats.get("status", fmt)  # the record's own statuses (OrderReviewStatus, …)
        if fmt == "status" and spec.code:
            fmt = lambda value, code=spec.code: registry.status_label(value, code)  # noqa: E731
        if key in old and key in new and old[key] != new[key]:
            rows.append((str(label), format_value(old[key], fmt), format_value(new[key], fmt)))
    return rows


def describe(entry, record_type=None):
    """One audit entry as a sentence; `record_type` (its code or RecordType) names its statuses."""
    name, system = who(entry)
    spec = Spec.of(record_type) if record_type is not None else Spec()
    trigger = entry.new_values.get("triggered_by", "") if system and isinstance(entry.new_values, dict) else ""
    return AuditLine(seq=entry.seq, when=entry.timestamp, who=name, system=system, what=_what(entry),
                     changes=_changes(entry, spec), reason=reason_text(entry.reason), action=entry.action,
                     trigger=str(trigger or ""))
