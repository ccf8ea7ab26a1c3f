"""Domain errors. Views and API endpoints translate them into responses:
NotPermitted → 403, WrongState → 409, InvalidInput → 400 with field errors."""


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
