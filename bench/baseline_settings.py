"""The site's settings with the minimal view as the only URL."""

from __future__ import annotations

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline"
