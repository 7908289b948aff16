"""The MAILERS entry (Django 6.1) made from an EMAIL_URL."""

from __future__ import annotations

from typing import Any

import environ

env = environ.Env()


def mailer_from_url(url: str, timeout: int) -> dict[str, Any]:
    """A MAILERS entry from an EMAIL_URL (django-environ's schemes:
    smtp://, smtp+tls://, smtp+ssl://, consolemail://, filemail://,
    memorymail://, dummymail://)."""
    config = env.email_url_config(url)
    backend = config["EMAIL_BACKEND"]
    options: dict[str, Any] = {}
    if backend == "django.core.mail.backends.smtp.EmailBackend":
        options = {
            "host": config["EMAIL_HOST"],
            "port": config["EMAIL_PORT"],
            "username": config["EMAIL_HOST_USER"] or "",
            "password": config["EMAIL_HOST_PASSWORD"] or "",
            "use_tls": bool(config.get("EMAIL_USE_TLS")),
            "use_ssl": bool(config.get("EMAIL_USE_SSL")),
            "timeout": timeout,
        }
    elif backend == "django.core.mail.backends.filebased.EmailBackend":
        options = {"file_path": config["EMAIL_FILE_PATH"]}
    return {"BACKEND": backend, "OPTIONS": options}
