"""The WSGI entry point (`gunicorn config.wsgi`).

HEAD takes the same chain as GET and gets the GET's status and headers;
`config.middleware`, the outermost middleware, drops the body, since
Django's WSGI handler does not (only runserver and the test client do;
gunicorn drops it too, but logs a warning for every such answer).
Requests that are the same for everyone take a shorter middleware chain:
`speed.public_chain`.
"""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
site = get_wsgi_application()

from speed.public_chain import with_public_chain  # noqa: E402  (after django.setup())

application = with_public_chain(site)
