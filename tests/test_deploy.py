"""With production values, `manage.py check --deploy` reports nothing; without
a SECRET_KEY, production refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-3f9c1e7a2b8d4c6e0f1a2b3c4d5e6f7a8b9c0d1e2f",
    "ALLOWED_HOSTS": "letters.example.org",
    "SITE_URL": "https://letters.example.org",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1/undersigned"),
    "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3"),
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
    "DEFAULT_FROM_EMAIL": "Undersigned <letters@example.org>",
    "BEHIND_TLS_PROXY": "1",
}


# The speed machinery's switches (docs/speed.md): production runs their defaults.
SWITCHES = {*settings.SPEED, "SIGNING_LETTER_TTL"}


def manage(
    *args: str, env: dict[str, str], drop: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION
        and k not in SWITCHES
        and not k.startswith(drop)
        and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_shell(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in `manage.py shell` with the PRODUCTION values; it must succeed."""
    result = manage("shell", "--no-imports", "-c", code, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    return result


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_uses_postgresql_pool_redis_and_smtp():
    code = (
        "from django.conf import settings as s;"
        "from django.core.mail import mailers;"
        "db = s.DATABASES['default']; m = mailers.default;"
        "print(db['ENGINE'], bool(db['OPTIONS'].get('pool')),"
        " s.CACHES['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER,"
        " f'{type(m).__module__}.{type(m).__name__}', m.host, m.port, m.use_tls, m.username,"
        " m.timeout, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    result = production_shell(code)

    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "True",
        "speed.redis_client.RedisCache",
        "False",
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.org",
        "587",
        "True",
        "mailer",
        "15",
        "True",
        "True",
    ]
    assert "RemovedInDjango" not in result.stderr  # no deprecated email settings


def test_production_refuses_to_start_without_the_signer_keys():
    """Signers' addresses are sealed and hashed with keys outside the
    database (config/signer_keys.py): without them, no start, and the
    message names the variable to set."""
    result = manage("check", env=PRODUCTION, drop=("SIGNER_",))

    assert result.returncode != 0
    assert "SIGNER_HASH_KEY must be set" in result.stderr
