"""Screenshots of the key pages, at a desktop and a phone size, for the docs
(docs/screenshots/, listed in docs/screenshots/README.md and shown in the
README), taken in Debian's Chromium on the seeded site of tests/site_pages.py.

Part of `make test`, so the pictures follow the site; on the way each page is
checked for horizontal scrolling at phone width (the design is responsive:
nothing may be wider than the screen).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.site_pages import PAGES, Site, open_site_page, page_params

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# `make screenshots` refreshes docs/screenshots/; a plain `make test` writes
# them under var/ so that a test run leaves the work tree clean.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR") or Path(settings.STATIC_ROOT).parent / "screenshots"
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# The pages shown in the docs (names from tests/site_pages.PAGES).
SHOWN = [
    "letter",
    "letter-responded",
    "sign-errors",
    "thanks",
    "dashboard",
    "organiser-letter",
    "leadership",
    "packet",
    "letter-coalition",
    "leadership-coalition",
]

# Pages that scroll sideways on a phone: name -> the reason (marks that check
# xfail, strict, until the page is fixed).
KNOWN_OVERFLOW: dict[str, str] = {}


@pytest.fixture
def phone(new_page: Callable[..., Any]) -> Any:
    """A phone-sized page: 390x844 CSS pixels, a mobile viewport, touch."""
    return new_page(viewport=PHONE, is_mobile=True, has_touch=True)


def _shoot(page: Any, name: str, size: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{size}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    assert path.stat().st_size > 1000, path
    return path


def _horizontal_overflow(page: Any) -> str | None:
    """None if nothing is wider than the screen, else what sticks out."""
    found = page.evaluate(
        """(width) => {
          const scroll = document.documentElement.scrollWidth;
          if (scroll <= window.innerWidth && scroll <= width) return null;
          const wide = [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > width + 0.5)
            .slice(0, 5)
            .map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""));
          return `scrollWidth ${scroll} > innerWidth ${window.innerWidth}: ${wide.join(", ")}`;
        }""",
        PHONE["width"],
    )
    return None if found is None else str(found)


@pytest.mark.parametrize("name", page_params(SHOWN, KNOWN_OVERFLOW))
def test_screenshots_and_no_horizontal_scrolling_on_a_phone(
    site_server: str, page: Any, phone: Any, site: Site, name: str
) -> None:
    which = PAGES[name]

    page.set_viewport_size(DESKTOP)
    open_site_page(page, site_server, site, which)
    _shoot(page, name, "desktop")

    open_site_page(phone, site_server, site, which)
    assert phone.evaluate("window.innerWidth") == PHONE["width"]
    _shoot(phone, name, "phone")
    overflow = _horizontal_overflow(phone)
    assert overflow is None, f"{name} scrolls sideways at {PHONE['width']}px: {overflow}"
