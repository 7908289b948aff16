"""WSGI entry point of the baseline: `gunicorn bench.baseline_wsgi`."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.baseline_settings"
application = get_wsgi_application()
