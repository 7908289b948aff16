"""Accessibility in a real browser (Debian's Chromium): axe-core finds no WCAG
2.1 A/AA violation on any kind of page of the site (tests/site_pages.PAGES:
public, signers', leadership's, account and organiser pages, each state and
each form with its errors), in English and in German, in light and dark
mode; and a co-worker can sign with the keyboard alone, hearing the errors
when something is missing.

axe-core comes from the npm registry, pinned in package.json/package-lock.json
(`npm ci --no-audit --no-fund` puts it in node_modules/).  The site's CSP
forbids inline scripts, so axe is not added as a <script> tag: it is installed
as an init script (Playwright's `add_init_script`, evaluated through the
DevTools protocol, which the CSP does not govern), and the pages keep their
real CSP while they are checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings

from letters.models import Letter, Signature, SignatureStatus
from tests.site_pages import LANGUAGES, PAGES, Site, walk_site

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

AXE_JS = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return {
    version: axe.version,
    passes: result.passes.length,
    violations: result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(" "),
        html: n.html,
        summary: n.failureSummary,
      })),
    })),
  };
}"""


def format_violations(violations: list[dict[str, Any]]) -> str:
    """axe's findings as text a person can act on."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}\n  {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"  - {node['target']}\n      {node['html'][:200]}")
            lines.extend(f"      {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


def axe_result(page: Any) -> dict[str, Any]:
    """axe-core's WCAG 2.1 A and AA rules run on the page: its version, how
    many checks passed, and each violation with the elements concerned."""
    assert page.evaluate("typeof axe") == "object", "axe-core was not injected"
    result: dict[str, Any] = page.evaluate(RUN_AXE, WCAG_21_AA)
    assert result["passes"] > 0, "axe-core checked nothing"
    return result


def run_axe(page: Any) -> None:
    """Run axe-core's WCAG 2.1 A and AA rules on the page; fail listing every
    violation with the elements concerned."""
    result = axe_result(page)
    assert not result["violations"], (
        f"axe-core {result['version']} found WCAG 2.1 AA violations on {page.url}:\n"
        + format_violations(result["violations"])
    )


@pytest.fixture(scope="session")
def axe_js() -> str:
    if not AXE_JS.exists():
        pytest.fail(
            f"{AXE_JS} is missing: run `npm ci --no-audit --no-fund` in {settings.BASE_DIR}"
        )
    return str(AXE_JS)


SCHEMES = ["light", "dark"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_wcag_violations_on_any_page(
    site_server: str, new_page: Callable[..., Any], site: Site, axe_js: str, language: str
) -> None:
    """Every page of PAGES, in light and in dark mode (the same page, its
    colour scheme switched), all checked before the test says what it found."""
    found = []
    checked = 0
    version = ""
    for which, page in walk_site(new_page, site_server, site, language, init_script=axe_js):
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
            assert dark == (scheme == "dark")
            result = axe_result(page)
            version = result["version"]
            checked += 1
            if result["violations"]:
                found.append(
                    f"{which.name} ({language}, {scheme}) at {page.url}:\n"
                    + format_violations(result["violations"])
                )
    assert checked == len(PAGES) * len(SCHEMES)
    assert not found, (
        f"axe-core {version} found WCAG 2.1 AA violations on {len(found)} of {checked} "
        "pages:\n\n" + "\n\n".join(found)
    )


# --- Signing with the keyboard alone --------------------------------------------


def _focused(page: Any) -> str:
    return str(
        page.evaluate(
            """() => {
          const e = document.activeElement;
          if (!e || e === document.body) return "body";
          const name = e.getAttribute("name");
          const key = e.id ? "#" + e.id : name ? `[name=${name}]` : "";
          return e.tagName.toLowerCase() + key + " " + (e.textContent || "").trim().slice(0, 30);
        }"""
        )
    )


def _assert_focus_visible(page: Any) -> None:
    """The focused element shows a focus indicator (WCAG 2.4.7)."""
    outline = page.evaluate(
        """() => {
          const s = getComputedStyle(document.activeElement);
          return s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
        }"""
    )
    assert outline, f"no visible focus indicator on {_focused(page)}"


def tab_to(page: Any, selector: str, limit: int) -> None:
    """Press Tab until the focused element matches `selector` (at most `limit`
    times); each element reached must show that it has the focus."""
    path = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        path.append(_focused(page))
        _assert_focus_visible(page)
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} not reached in {limit} Tabs; focus went: {path}")


SIGN_BUTTON = "form[action*='/sign/'] button[type=submit]"


def test_a_coworker_signs_with_the_keyboard_alone(
    site_server: str, page: Any, open_letter: Letter, smtp: Any
) -> None:
    page.goto(site_server + open_letter.get_absolute_url())

    # The first Tab reaches the skip link, which is then visible; Enter skips.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    assert page.locator(".skip-link").bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    page.wait_for_url("**#main", timeout=5000)  # the fragment navigation lands a moment later
    assert page.url.endswith("#main")

    tab_to(page, "#id_name", limit=40)
    page.keyboard.type("Kay Keys")
    tab_to(page, "#id_email", limit=2)
    page.keyboard.type("kay@example.org")
    tab_to(page, "#id_team", limit=3)
    page.keyboard.type("Support")
    tab_to(page, "input[name=display]", limit=4)
    page.keyboard.press("ArrowDown")  # the radio group: choose "Anonymous"
    assert page.evaluate("document.activeElement.value") == "anonymous"
    tab_to(page, "#id_consent", limit=3)
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked") is True
    tab_to(page, SIGN_BUTTON, limit=2)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/check-inbox/"))
    assert page.get_by_role("heading", name="Check your inbox", level=1).is_visible()
    smtp.wait_for("kay@example.org", timeout=30)
    signature = Signature.objects.get(letter=open_letter)
    # Signed anonymously: the name and team typed are not stored at all.
    assert (signature.name, signature.team, signature.display) == ("", "", "anonymous")
    assert signature.status == SignatureStatus.PENDING


def test_errors_are_announced_when_an_empty_form_is_sent_with_the_keyboard(
    site_server: str, page: Any, open_letter: Letter
) -> None:
    page.goto(site_server + open_letter.get_absolute_url())
    tab_to(page, SIGN_BUTTON, limit=80)
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value.status == 400

    alerts = page.get_by_role("alert")
    texts = [t.strip() for t in alerts.all_inner_texts()]
    # The first error heard is the name's (the form's display is public by default).
    assert "Enter your name to sign publicly, or choose anonymous." in texts[0], texts
    assert any("This field is required." in t for t in texts), texts  # the email's
    assert any("Please agree so we can store your signature." in t for t in texts), texts
    # Each field in error carries its own alert, next to the field.
    for field in ("name", "email", "consent"):
        container = page.locator(".has-error").filter(has=page.locator(f"#id_{field}"))
        assert container.count() == 1, field
        alert = container.get_by_role("alert")
        assert alert.count() == 1, f"the error of {field} is not in a role=alert container"
        assert alert.inner_text().strip(), field
        # ... and the field says it is invalid and points at its error.
        control = page.locator(f"#id_{field}")
        assert control.get_attribute("aria-invalid") == "true", field
        described_by = (control.get_attribute("aria-describedby") or "").split()
        error_id = alert.locator(".errorlist").get_attribute("id")
        assert error_id in described_by, (field, described_by, error_id)
    # Fields that are fine carry no error.
    assert page.locator(".has-error").filter(has=page.locator("#id_team")).count() == 0
    assert Signature.objects.count() == 0
