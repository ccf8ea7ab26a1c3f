"""Domain errors. Views and API endpoints translate them into responses:
NotPermitted → 403, WrongState → 409, InvalidInput → 400 with field errors."""
import re

from django.utils.translation import gettext as _


class DomainError(Exception):
    status_code = 400

    def __init__(self, message, *, field_errors=None):
        super().__init__(message)
        self.message = str(message)
        self.field_errors = field_errors or {}

    def __str__(self):
        if self.field_errors:
            return f"{self.message} {self.field_errors}"
        return self.message


class InvalidInput(DomainError):
    status_code = 400


class NotPermitted(DomainError):
    status_code = 403


class WrongState(DomainError):
    """A transition asked of an object whose current state does not allow it."""

    status_code = 409

    def __init__(self, message, *, current_state=None, **kwargs):
        super().__init__(message, **kwargs)
        self.current_state = current_state


class SignatureRefused(DomainError):
    status_code = 400


class Duplicate(DomainError):
    """A unique constraint refused a write: someone saved the same thing a moment
    earlier (two people entering one order number at once). 409 naming the fields."""

    status_code = 409

    @classmethod
    def from_integrity_error(cls, error):
        """The Duplicate for a unique violation (SQLite or PostgreSQL), else None."""
        cause = error.__cause__
        text = str(error)
        if getattr(cause, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
            match = re.search(r"Key \((.+?)\)=", text)
            columns = match.group(1).split(", ") if match else []
        elif text.startswith("UNIQUE constraint failed: "):  # SQLite
            columns = [c.strip().rsplit(".", 1)[-1] for c in text.split(": ", 1)[1].split(",")]
        else:
            return None
        fields = [c[:-3] if c.endswith("_id") else c for c in columns if c.strip()] or ["non_field_errors"]
        message = _("This has just been saved by someone else; it is already recorded.")
        return cls(message, field_errors={field: [_("Already recorded.")] for field in fields})
