"""Celery application: `celery -A config worker` and `celery -A config beat`.

Configuration lives in Django settings under the CELERY_ namespace (JSON only,
late acks, reject on worker loss, prefetch 1, explicit visibility timeout,
task time limits); see config/settings.py.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("undersigned")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
