"""The provider registry is the one place the core learns about vendors: every spec's
entries resolve, and no module outside a vendor's own folder (and the simulators) names it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from presence_dash.config import _CSV_COLUMNS, PersonConfig, ProvidersConfig
from presence_dash.providers.registry import PROVIDERS, provider_labels
from presence_dash.providers.spec import ProviderSpec, load
from presence_dash.web.pages import page_labels

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "presence_dash"

# Names that are ordinary words elsewhere in the code (`[[teams]]`): only the label counts.
ORDINARY_NAMES = {"teams"}
# What stays Glance's in the visitors feature: its table's name, the functions a signal may
# invoke (GLANCE.*) and the API's error codes and wording; the feature reaches the client only
# through visitors/source.py. ScreenMeet is a ServiceNow app: its wire is ServiceNow's.
ALLOWED = {
    "glance": {
        "visitors/actions.py",
        "visitors/store.py",
        "web/openapi.py",
        "web/responses.py",
        "web/schemas.py",
        "web/visitors_api.py",
        "templates/_visitors.html",
        "static/js/visitors.js",
    },
    "servicenow": {"screenmeet/client.py", "web/screenmeet_schemas.py"},
}


def _words(spec: ProviderSpec) -> set[str]:
    words = {spec.label.lower()}
    return words if spec.name in ORDINARY_NAMES else words | {spec.name}


def _python_texts(path: Path) -> list[tuple[int, str]]:
    """Identifiers, imported names and string constants; not comments or docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                found.append((line, node.value))
        elif isinstance(node, ast.Name):
            found.append((line, node.id))
        elif isinstance(node, ast.Attribute):
            found.append((line, node.attr))
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            found.append((line, node.name))
        elif isinstance(node, ast.ImportFrom):
            found.append((line, node.module or ""))
            found.extend((line, a.asname or a.name) for a in node.names)
        elif isinstance(node, ast.Import):
            found.extend((line, a.name) for a in node.names)
        elif isinstance(node, ast.keyword | ast.arg):
            found.append((line, node.arg or ""))
    return found


_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*|\{#.*?#\}", re.S)


def _markup_texts(path: Path) -> list[tuple[int, str]]:
    text = _COMMENTS.sub(lambda m: "\n" * m.group().count("\n"), path.read_text("utf-8"))
    return list(enumerate(text.splitlines(), 1))


def _owner(rel: str) -> str | None:
    """The vendor folder a module sits in, if any."""
    parts = rel.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "providers" else None


def _violations(spec: ProviderSpec) -> list[str]:
    words, allowed = _words(spec), ALLOWED.get(spec.name, set())
    out: list[str] = []
    sources = [(p, p.relative_to(PACKAGE).as_posix()) for p in PACKAGE.rglob("*.py")]
    sources += [(p, p.relative_to(ROOT).as_posix()) for p in (ROOT / "templates").glob("*.html")]
    sources += [(p, p.relative_to(ROOT).as_posix()) for p in (ROOT / "static/js").glob("*.js")]
    for path, rel in sources:
        own = _owner(rel)
        if rel.startswith(("simulators/", "storage/migrations/")) or rel in allowed:
            continue  # simulators are vendor stand-ins; migrations are history
        if own == spec.name or rel == "providers/registry.py":
            continue
        texts = _python_texts(path) if path.suffix == ".py" else _markup_texts(path)
        out += [f"{rel}:{n}: {t[:70]!r}" for n, t in texts if any(w in t.lower() for w in words)]
    return out


@pytest.mark.parametrize("spec", PROVIDERS, ids=lambda s: s.name)
def test_no_module_outside_the_vendor_folder_names_the_vendor(spec: ProviderSpec) -> None:
    assert _violations(spec) == []


def test_the_check_finds_a_vendor_named_in_core_code(tmp_path: Path) -> None:
    path = tmp_path / "core.py"
    path.write_text('"""Docs say ServiceNow."""\n# comments: Cisco\nx = cfg.salesforce\n')
    texts = [t for _, t in _python_texts(path)]
    assert "salesforce" in texts
    assert not any("ServiceNow" in t or "Cisco" in t for t in texts)


def test_names_and_person_keys_are_unique_and_every_entry_resolves() -> None:
    names = [s.name for s in PROVIDERS]
    assert len(names) == len(set(names))
    keys = [s.person_field.key for s in PROVIDERS if s.person_field]
    assert len(keys) == len(set(keys))
    for spec in PROVIDERS:
        entries = [spec.simulator.start] if spec.simulator else []
        if spec.demo:
            entries += [e for e in (spec.demo.start, spec.demo.person_id) if e]
        for entry in entries:
            assert callable(load(entry)), entry


def test_config_and_pages_take_their_providers_from_the_registry() -> None:
    assert list(ProvidersConfig.model_fields) == [*(s.name for s in PROVIDERS), "screenmeet"]
    person_keys = [s.person_field.key for s in PROVIDERS if s.person_field]
    assert list(PersonConfig.model_fields) == ["id", "name", "team", *person_keys]
    assert {"id", "name", "team", *person_keys} == _CSV_COLUMNS
    assert page_labels() == {**provider_labels(), "screenmeet": "ScreenMeet"}
    assert provider_labels() == {s.name: s.label for s in PROVIDERS}
