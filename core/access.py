"""One authorisation entry point for records (STYLE: access_record).

The registry is open to people with a department membership (a quality system is
transparent inside the company), closed to users without one. Two kinds of rule are
registered by the apps that own them (core imports no procedure and no app above it):

- a procedure's `team_records(user)` (core.registry.Procedure): records a person sees
  without a membership, e.g. the 8D reports whose team they are on;
- a *scope* (`register_scope`): for the users it applies to, it replaces everything above,
  e.g. an auditor sees only what an active grant covers (evidence.access)."""
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Q
from django.http import Http404

from . import registry
from .models import Record


@dataclass(frozen=True)
class Scope:
    """What a scoped user may see: `records` (a Q over Record), and whether they may open the
    registry at all right now (`open`: e.g. an auditor whose grant is current)."""

    records: Q
    open: bool


_SCOPES = []


def register_scope(scope):
    """`scope(user)` → None when it does not apply to `user`, else a Scope."""
    _SCOPES.append(scope)


# --- facts read with the user ------------------------------------------------------------------------------------
# Some questions are asked of every signed-in user on every request — is this user an auditor (evidence.access),
# does any permission of the admin's tables apply (the menu) — and for nearly everybody the answer is "no". Each
# was a query of its own. The app that asks registers its question here as a condition, and the statement that
# reads the user (accounts.backends.ModelBackend.get_user for a session, core.authentication for a token) asks it
# in the same statement; a "no" then fills the app's own per-request cache, a "yes" leaves it to be read as before.
# The answer is the database's at the user's read, as a query later in the same request would have given it.

_USER_FACTS = {}


def register_user_fact(name, fact, apply):
    """`fact(user_ref)`: a Q about the user that `user_ref` (an OuterRef to the user's key) names, or an expression
    giving one value (e.g. a subquery), with no value of the moment in it (read_user refuses one); `apply(user,
    value)`: what the answer tells for this request (e.g. an empty cache where a condition does not hold). Like any
    per-request cache, the answer holds for the request: a permission, group, grant or membership given to the
    person during the request counts from their next one."""
    _USER_FACTS[name] = (fact, apply)


_USER_SQL = {}  # (model, database, facts) → the statement reading a user with them, and where its key goes
_NO_KEY, _OTHER_KEY = -7, -8  # keys no user has, in the statement compiled once, replaced by the user's at each read


def _compiled(manager, key):
    annotations = {}
    for name, (fact, _apply) in _USER_FACTS.items():
        expression = fact(OuterRef("pk"))
        if isinstance(expression, Q):
            expression = ExpressionWrapper(expression, output_field=BooleanField())
        annotations[f"qms_fact_{name}"] = expression
    sql, params = manager.annotate(**annotations).filter(pk=key).query.get_compiler(using=manager.db).as_sql()
    return sql, list(params)


def _user_sql(manager):
    """The statement reading a user by key with every registered fact, compiled once per process and database:
    compiling three EXISTS with Django's ORM costs more (about 1 ms of CPU) than the two queries they save. A fact
    must say the same for the same rows whenever it is asked: one whose statement holds a value of the moment (a
    time, a setting read at the call) would keep its first value for the life of the process, so it is refused —
    the statement is compiled twice, with two stand-in keys, and must differ in the key alone."""
    cache_key = (manager.model, manager.db, tuple((name, fact) for name, (fact, _apply) in _USER_FACTS.items()))
    if cache_key not in _USER_SQL:
        sql, params = _compiled(manager, _NO_KEY)
        again, other = _compiled(manager, _OTHER_KEY)
        at = params.index(_NO_KEY) if params.count(_NO_KEY) == 1 else None
        if at is None or again != sql or other != [*params[:at], _OTHER_KEY, *params[at + 1:]]:
            raise ImproperlyConfigured("A registered user fact must not depend on the moment it is asked "
                                       "(core.access.register_user_fact).")
        _USER_SQL[cache_key] = (sql, tuple(params), at)
    return _USER_SQL[cache_key]


def read_user(manager, pk):
    """The user of key `pk` (None if there is none) with what each registered fact says applied to it."""
    sql, params, at = _user_sql(manager)
    pk = manager.model._meta.pk.to_python(pk)  # a session holds it as text
    found = list(manager.raw(sql, [*params[:at], pk, *params[at + 1:]]))
    if not found:
        return None
    user = found[0]
    for name, (_fact, apply) in _USER_FACTS.items():
        apply(user, getattr(user, f"qms_fact_{name}"))
    return user


def _scoped(user):
    for scope in _SCOPES:
        condition = scope(user)
        if condition is not None:
            return condition
    return None


def remember_membership_pairs(user, pairs):
    """What membership_pairs(user) gives for this request, when the read of the user brought it (accounts)."""
    user._membership_pairs = frozenset(pairs)


def membership_pairs(user):
    """The (department, role) pairs of `user`'s memberships, read once per user object (a request's user lives for
    that request; a membership granted meanwhile counts from the next request): the department permissions
    (accounts.backends) and whether the user belongs anywhere come from this one query."""
    if not hasattr(user, "_membership_pairs"):
        user._membership_pairs = frozenset(user.memberships.values_list("department", "role"))
    return user._membership_pairs


def has_membership(user):
    """Whether `user` belongs to any department (membership_pairs: one query per request)."""
    return bool(membership_pairs(user))


def can_view_processes(user):
    return user.is_authenticated and (user.is_superuser or has_membership(user))


def _team_records(user):
    """Records the registered procedures show to `user` without a membership."""
    condition = Q(pk__in=[])
    for procedure in registry.procedures():
        if procedure.team_records is not None:
            condition |= Q(pk__in=procedure.team_records(user))
    return Record.objects.filter(condition)


def can_view_records(user):
    """The records registry: department members, team members of a procedure's record, and
    scoped users (auditors) while their scope shows anything."""
    if not user.is_authenticated:
        return False
    scoped = _scoped(user)
    if scoped is not None:
        return scoped.open
    return can_view_processes(user) or _team_records(user).exists()


def records_visible_to(user):
    """Records a user may see (see the module docstring)."""
    if not user.is_authenticated:
        return Record.objects.none()
    scoped = _scoped(user)
    if scoped is not None:
        return Record.objects.filter(scoped.records)
    if can_view_processes(user):
        return Record.objects.all()
    return _team_records(user)


def can_view_record(user, record):
    return records_visible_to(user).filter(pk=record.pk).exists()


def access_record(user, number):
    record = records_visible_to(user).filter(number=number).first()
    if record is None:
        raise Http404("No such record")
    return record
