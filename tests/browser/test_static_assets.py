"""The browser assets exist, keep to a strict CSP (no inline script code or handlers), parse as
ES modules, and the templates render the DOM hooks the browser tests rely on."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import fake_pages
import pytest

TEMPLATES = fake_pages.TEMPLATES
STATIC = fake_pages.STATIC
JS_FILES = sorted((STATIC / "js").glob("*.js"))
PAGES = ["agent.html", "wall.html"]


class _Scan(HTMLParser):
    """Collects scripts, event-handler attributes and person elements of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.script_text: list[str] = []
        self.handlers: list[str] = []
        self.ids: set[str] = set()
        self.people: dict[str, dict[str, str]] = {}
        self._in_script = False
        self._person: str | None = None
        self._status_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        self.handlers += [n for n, v in attrs if (v or "").lstrip().startswith("javascript:")]
        if attr.get("id"):
            self.ids.add(attr["id"])
        if tag == "script":
            self.scripts.append(attr)
            self._in_script = True
        if "data-person-id" in attr:
            self._person = attr["data-person-id"]
            self.people[self._person] = {"status": attr.get("data-status") or "", "text": ""}
        if self._person and "status-text" in (attr.get("class") or "").split():
            self._status_text = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if self._status_text:
            self._status_text = False

    def handle_data(self, data: str) -> None:
        if self._in_script and self.scripts and self.scripts[-1].get("type") != "application/json":
            self.script_text.append(data)
        if self._status_text and self._person:
            self.people[self._person]["text"] += data.strip()


SNAPSHOT = fake_pages.snapshot(
    [
        fake_pages.person("ada", "Service Desk", "online"),
        fake_pages.person(
            "bea", "Service Desk", "busy", activity="On the phone", activity_source="cisco"
        ),
        fake_pages.person("grace", "Service Desk", "away"),
        fake_pages.person("alan", "Field", "offline"),
        fake_pages.person("linus", "Field", "unknown", stale=True),
    ],
    providers={
        "servicenow": {"state": "down", "last_success": "2026-11-23T09:42:00.000Z", "error": "x"},
    },
)


def _render(page: str, team_filter: str | None = None) -> _Scan:
    scan = _Scan()
    scan.feed(fake_pages.render(page, SNAPSHOT, team_filter))
    return scan


def test_assets_exist() -> None:
    for name in ["base.html", *PAGES]:
        assert (TEMPLATES / name).is_file(), name
    for name in ["css/dash.css", "css/wall.css", "vendor/socket.io.min.js"]:
        assert (STATIC / name).is_file(), name
    assert "MIT" in (STATIC / "vendor/socket.io-client.LICENSE").read_text()
    assert {"connection.js", "store.js", "render.js", "agent.js", "wall.js", "timefmt.js"} <= {
        path.name for path in JS_FILES
    }


def test_templates_have_no_cdn_urls() -> None:
    for path in TEMPLATES.glob("*.html"):
        assert not re.search(r"(src|href)=\"(https?:)?//", path.read_text()), path.name


@pytest.mark.parametrize("page", PAGES)
def test_pages_have_no_inline_script_code_or_handlers(page: str) -> None:
    scan = _render(page)
    assert scan.handlers == []
    assert "".join(scan.script_text).strip() == ""
    for script in scan.scripts:
        assert script.get("src") or script.get("type") == "application/json", script
        if script.get("src"):
            assert (STATIC / script["src"].removeprefix("/static/")).is_file(), script


@pytest.mark.parametrize("page", PAGES)
def test_first_paint_carries_person_hooks(page: str) -> None:
    scan = _render(page)
    assert scan.people["ada"] == {"status": "online", "text": "Online"}
    assert scan.people["bea"] == {"status": "busy", "text": "Busy"}
    assert scan.people["linus"] == {"status": "unknown", "text": "Unknown"}
    assert {"initial-snapshot", "people", "connection-state"} <= scan.ids


def test_wall_has_banners_and_honours_team_filter() -> None:
    scan = _render("wall.html", team_filter="Field")
    assert {"connection-banner", "stale-banner", "clock"} <= scan.ids
    assert set(scan.people) == {"alan", "linus"}


def test_module_imports_resolve() -> None:
    for path in JS_FILES:
        for target in re.findall(r"^import .* from \"(\./[^\"]+)\";", path.read_text(), re.M):
            assert (path.parent / target).is_file(), f"{path.name} imports {target}"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: p.name)
def test_js_modules_parse(path: Path) -> None:
    result = subprocess.run(
        ["node", "--input-type=module", "--check"],
        stdin=path.open("rb"),
        capture_output=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
