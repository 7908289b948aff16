from __future__ import annotations


class ServiceError(Exception):
    """A domain rule refused the request; `field` names the form field, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
