"""`make lint-js` catches what breaks the browser floor (docs/accessibility.md): probes fed
to the repository's own eslint and stylelint configs must be refused, each for its reason."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / "node_modules" / ".bin"

JS_PROBE = """
const items = [1, 2];
export const last = items.at(-1);
export const deep = window.config?.wall ?? {};
document.body.replaceChildren();
document.querySelector("dialog").showModal();
export const copy = structuredClone(items);
export const counts = Object.fromEntries([]);
export const change = { at: 5 }.at; // a field called `at` is fine
"""
JS_EXPECTED = {
    2: "es-x/no-array-prototype-at",
    3: "es-x/no-optional-chaining",
    4: "no-restricted-syntax",
    5: "no-restricted-syntax",
    6: "compat/compat",
    7: "es-x/no-object-fromentries",
}
CSS_PROBE = """
.row { display: flex; gap: 8px; }
.cover { position: absolute; inset: 0; }
.name { font-size: clamp(12px, 2vw, 30px); }
.side:has(section) { display: block; }
.grid { grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); }
"""


def _tool(name: str) -> Path:
    tool = BIN / name
    if not tool.exists() and not os.environ.get("CI"):
        pytest.skip("npm packages are not installed: run `make lint-js` (npm ci) first")
    assert tool.exists(), f"{tool} is missing: `make lint-js` installs it"
    return tool


def test_eslint_refuses_what_the_floor_lacks() -> None:
    out = subprocess.run(
        [_tool("eslint"), "--format", "json", "--stdin", "--stdin-filename", "static/js/p.js"],
        input=JS_PROBE.lstrip("\n"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr
    found = {(m["line"], m["ruleId"]) for m in json.loads(out.stdout)[0]["messages"]}
    for line, rule in JS_EXPECTED.items():
        assert (line, rule) in found, (line, rule, sorted(found))
    assert not {rule for line, rule in found if line in (1, 8)}, sorted(found)


def test_stylelint_refuses_flex_gap_inset_clamp_and_has_on_the_wall() -> None:
    out = subprocess.run(
        [_tool("stylelint"), "--formatter", "json", "--stdin-filename", "static/css/wall.css"],
        input=CSS_PROBE.lstrip("\n"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    report = json.loads(out.stdout or out.stderr)
    lines = {w["line"] for w in report[0]["warnings"]}
    assert {1, 2, 3, 4} <= lines, report[0]["warnings"]
    assert 5 not in lines, report[0]["warnings"]  # minmax() is not min()
