"""The API's one kind of refusal: an HTTP status and one line saying what is wrong."""

from __future__ import annotations


class ApiError(Exception):
    """Answered as ``{"error": {"status": N, "message": "..."}}`` with status ``N``."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = " ".join(str(message).split())  # one line, whatever a source put in it
        self.headers = headers or {}
