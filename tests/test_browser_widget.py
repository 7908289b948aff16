"""The widget, as another site shows it: the code an organiser copies from
their letter page, pasted into a page of another origin, in Debian's
Chromium.  At the size the code gives, German (the longest of our
languages) fits without overflowing or clipping; the theme is the one the
code asks for, not the reader's preference (unless `auto`); the link opens
the letter in the widget's language."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.template.loader import render_to_string
from django.utils import translation

from letters import services
from letters.models import LetterStats
from letters.tests.factories import open_letter, record_paper
from tests.test_accessibility import axe_js, run_axe

__all__ = ["axe_js"]  # the fixture, shared with tests/test_accessibility.py

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

ENGLISH_TITLE = (  # 100 characters
    "Fair pay and predictable shifts for everyone in customer service, "
    "in the warehouse and in the office"
)

GERMAN_TITLE = (  # 100 characters
    "Faire Bezahlung und planbare Schichten für alle Beschäftigten im Kundendienst, "
    "im Lager und im Büro."
)


@pytest.fixture
def popular_letter(organiser: Any) -> Any:
    """A letter with a long German title, a goal, signatures on paper and a
    five-digit count: every line the widget can show, at its longest."""
    letter = open_letter(
        owner=organiser,
        slug="faire-bezahlung",
        goal=20000,
        title=ENGLISH_TITLE,
        translations=[
            services.TranslationInput(
                language="de",
                title=GERMAN_TITLE,
                body="Sehr geehrte Geschäftsführung,\n\nwir bitten Sie zu handeln.",
                demands=["Faire Bezahlung", "Planbare Schichten", "Mitsprache"],
            )
        ],
    )
    record_paper(letter, 1234)
    LetterStats.objects.update_or_create(letter=letter, defaults={"confirmed": 12345})
    letter.refresh_from_db()
    return letter


def widget_code(letter: Any, site_server: str, **options: str) -> str:
    """The code from the organiser's page, pointed at the test server, with
    `options` changed as the snippet explains (lang=, theme=)."""
    with translation.override("en"):
        snippet = render_to_string("organise/_widget_snippet.html", {"letter": letter})
    match = re.search(r"<textarea[^>]*>(.*?)</textarea>", snippet, re.S)
    assert match is not None
    code = html.unescape(match.group(1))
    code = code.replace(django_settings.SITE_URL.rstrip("/"), site_server)
    for name, value in options.items():
        code = re.sub(rf"{name}=[a-z]+", f"{name}={value}", code)
    return code


@pytest.fixture
def other_site() -> Iterator[Callable[[str], str]]:
    """Another site on this machine (127.0.0.1 on its own port, where the
    site is localhost: another origin and another site): `publish(html)`
    puts a page there and gives its address."""
    pages: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def publish(body: str) -> str:
        path = f"/campaign-{len(pages)}.html"
        pages[path] = body.encode()
        return f"http://127.0.0.1:{server.server_port}{path}"

    yield publish
    server.shutdown()
    server.server_close()


def host_page(
    new_page: Any, other_site: Callable[[str], str], code: str, **context: Any
) -> tuple[Any, Any]:
    """Another site's page with the widget's code in it, and the widget's
    frame once loaded."""
    page = new_page(**context)
    page.goto(other_site(f"<!DOCTYPE html><html><body><p>Our campaign:</p>{code}</body></html>"))
    frame_element = page.locator("iframe")
    frame_element.wait_for()
    frame = frame_element.element_handle().content_frame()
    assert frame is not None
    frame.wait_for_load_state()
    frame.locator("main").wait_for()
    return page, frame


# What overflows or is cut: the document against the frame, and every
# element whose content is wider or taller than its box while clipping it.
OVERFLOW = """() => {
  const doc = document.scrollingElement;
  const cut = [];
  for (const el of document.querySelectorAll("body *")) {
    const style = getComputedStyle(el);
    const clips = ["hidden", "clip", "auto", "scroll"].some(
      (v) => style.overflowX === v || style.overflowY === v);
    if (clips && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)) {
      cut.push(el.tagName + "." + el.className);
    }
    const box = el.getBoundingClientRect();
    if (box.right > innerWidth + 0.5 || box.bottom > innerHeight + 0.5) {
      cut.push(el.tagName + "." + el.className + " outside the frame");
    }
  }
  return {width: doc.scrollWidth, height: doc.scrollHeight,
          innerWidth, innerHeight, cut};
}"""


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_widget_fits_its_documented_size_in_every_language(
    site_server: str, new_page: Any, other_site: Any, popular_letter: Any, language: str
) -> None:
    code = widget_code(popular_letter, site_server, lang=language)
    assert 'width="320" height="340"' in code
    page, frame = host_page(new_page, other_site, code)

    assert frame.locator("html").get_attribute("lang") == language
    if language == "de":
        assert frame.get_by_role("link", name=GERMAN_TITLE).is_visible()
        assert frame.get_by_text("12.345 verifizierte Unterschriften").is_visible()
        assert frame.get_by_text("insgesamt 13.579").is_visible()
    box = page.locator("iframe").bounding_box()
    assert (round(box["width"]), round(box["height"])) == (320, 340)
    measured = frame.evaluate(OVERFLOW)
    assert (measured["innerWidth"], measured["innerHeight"]) == (320, 340)
    assert measured["width"] <= measured["innerWidth"], measured
    assert measured["height"] <= measured["innerHeight"], measured
    assert measured["cut"] == [], measured


COALITION = [  # ten employers, as the benchmark's coalition letter has
    ("Northwind Traders", 3456),
    ("Contoso Pharmaceuticals", 2345),
    ("Fabrikam Residences", 1234),
    ("Tailspin Toys", 987),
    ("Wide World Importers", 876),
    ("Adventure Works Cycles", 765),
    ("Woodgrove Bank", 654),
    ("Litware", 543),
    ("Proseware", 432),
    ("Lucerne Publishing", 321),
]


@pytest.fixture
def coalition_letter(organiser: Any) -> Any:
    """The popular letter's longest lines, as a coalition of ten employers
    that also takes other supporters, with paper for one employer and for
    the supporters: the widget at its longest."""
    from letters.models import Employer, EmployerStats
    from letters.services.employers import EmployerInput

    letter = open_letter(
        owner=organiser,
        slug="koalition",
        goal=20000,
        title=ENGLISH_TITLE,
        translations=[
            services.TranslationInput(
                language="de",
                title=GERMAN_TITLE,
                body="Sehr geehrte Geschäftsführungen,\n\nwir bitten Sie zu handeln.",
                demands=["Faire Bezahlung", "Planbare Schichten", "Mitsprache"],
            )
        ],
        employers=[
            EmployerInput(name=name, domains=[f"{name.split()[0].lower()}.example"])
            for name, _count in COALITION
        ],
        accept_supporters=True,
    )
    for (name, count), employer in zip(
        COALITION, Employer.objects.filter(letter=letter), strict=True
    ):
        assert employer.name == name
        EmployerStats.objects.update_or_create(
            employer=employer, defaults={"letter": letter, "confirmed": count}
        )
    LetterStats.objects.update_or_create(letter=letter, defaults={"confirmed": 12345})
    record_paper(letter, 100, employer_id=Employer.objects.get(name=COALITION[0][0]).pk)
    record_paper(letter, 1134)  # the other supporters'
    letter.refresh_from_db()
    return letter


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_coalition_letters_widget_fits_its_documented_size(
    site_server: str, new_page: Any, other_site: Any, coalition_letter: Any, language: str
) -> None:
    """The three largest employers with their totals, how many others, and
    the other supporters apart, beside every other line at its longest."""
    code = widget_code(coalition_letter, site_server, lang=language)
    _page, frame = host_page(new_page, other_site, code)

    employers = frame.get_by_test_id("widget-employers")
    assert employers.is_visible()
    items = employers.locator("li").all_inner_texts()
    thousands = "." if language == "de" else ","
    assert items[:2] == [
        f"Northwind Traders 3{thousands}556",  # its paper included
        f"Contoso Pharmaceuticals 2{thousands}345",
    ]
    assert len(items) == 3  # the eight others as one item; the supporters in the count only
    measured = frame.evaluate(OVERFLOW)
    assert (measured["innerWidth"], measured["innerHeight"]) == (320, 340)
    assert measured["width"] <= measured["innerWidth"], measured
    assert measured["height"] <= measured["innerHeight"], measured
    assert measured["cut"] == [], measured


@pytest.mark.parametrize(
    ("theme", "preference", "dark"),
    [
        ("light", "dark", False),  # the default, whatever the reader prefers
        ("dark", "light", True),
        ("auto", "dark", True),
        ("auto", "light", False),
    ],
)
def test_the_widget_has_the_theme_its_code_asks_for(
    site_server: str,
    new_page: Any,
    other_site: Any,
    popular_letter: Any,
    theme: str,
    preference: str,
    dark: bool,
    axe_js: str,
) -> None:
    code = widget_code(popular_letter, site_server, theme=theme, lang="de")
    _page, frame = host_page(
        new_page, other_site, code, color_scheme=preference, init_script=axe_js
    )

    background = frame.evaluate("() => getComputedStyle(document.body).backgroundColor")
    text = frame.evaluate("() => getComputedStyle(document.body).color")
    assert luminance(background) < 0.2 if dark else luminance(background) > 0.8, background
    assert luminance(text) > 0.6 if dark else luminance(text) < 0.2, text
    run_axe(frame)  # contrast and the rest of WCAG 2.1 A/AA, in this theme


def test_the_default_code_is_light_for_a_reader_who_prefers_dark(
    site_server: str, new_page: Any, other_site: Any, popular_letter: Any
) -> None:
    code = widget_code(popular_letter, site_server)
    assert "theme=light" in code
    _page, frame = host_page(new_page, other_site, code, color_scheme="dark")
    background = frame.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert luminance(background) > 0.8


def test_the_widget_opens_the_letter_in_its_own_language(
    site_server: str, new_page: Any, other_site: Any, popular_letter: Any, settings: Any
) -> None:
    """A German widget, read by someone whose browser asks for English: the
    letter opens in German, and German stays for the pages after it."""
    settings.SITE_URL = site_server  # the widget's links are absolute
    code = widget_code(popular_letter, site_server, lang="de")
    page, frame = host_page(new_page, other_site, code, locale="en-GB")

    with page.context.expect_page() as opened:
        frame.get_by_role("link", name="Diesen Brief unterschreiben").click()
    letter_page = opened.value
    letter_page.wait_for_load_state()
    assert letter_page.url.endswith(f"/letters/{popular_letter.slug}/?lang=de")
    assert letter_page.locator("html").get_attribute("lang") == "de"
    assert letter_page.get_by_role("heading", name=GERMAN_TITLE, level=1).is_visible()
    letter_page.goto(f"{site_server}/letters/")
    assert letter_page.locator("html").get_attribute("lang") == "de"


def luminance(css_colour: str) -> float:
    """0 (black) to 1 (white) for an `rgb(...)` colour."""
    red, green, blue = (int(v) / 255 for v in re.findall(r"\d+", css_colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
