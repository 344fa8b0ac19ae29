"""Every config shape the docs ship still loads: each TOML example in README.md and docs/ (as
written, placeholders filled), and a directory CSV with the CONTRACT's columns. The provider
tables and person keys are built from the registry; these keep their names the CONTRACT's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from presence_dash.config import ConfigError, load_settings, settings_from_dict
from presence_dash.core.model import Person
from presence_dash.providers.registry import provider_spec

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```toml\n(.*?)^```", re.S | re.M)
PLACEHOLDER = re.compile(r"<[^>\n]*>")  # `https://<Authorization API endpoint>`
USERS = '[[users]]\nusername = "ada"\npassword_hash = "scrypt:32768:8:1$salt$hash"\n'
CSV_HEADER = "id,name,team,servicenow,cisco,salesforce"  # the CONTRACT's columns


def _provider_of(where: str) -> str | None:
    """`docs/providers/<name>.md`: the provider whose page it is."""
    match = re.match(r"docs/providers/(\w+)\.md#", where)
    return match[1] if match else None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if both else value
    return out


def _whole(where: str, text: str) -> dict[str, Any]:
    """A provider page's fragment (a few keys, or a sub-table) inside that page's complete
    `[providers.<name>]` example, as a reader would paste it."""
    raw = tomllib.loads(text)
    name = _provider_of(where)
    if name is None or f"[providers.{name}]" in text:
        return raw
    page = where.split("#")[0]
    full = next(
        tomllib.loads(t) for w, t in EXAMPLES if w.startswith(page) and f"[providers.{name}]" in t
    )
    return _merge(full, raw if "providers" in raw else {"providers": {name: raw}})


def _env_names(node: Any) -> dict[str, str]:
    """A value for every environment variable a `*_env` key names."""
    if isinstance(node, dict):
        found = {v: "x" for k, v in node.items() if k.endswith("_env") and isinstance(v, str)}
        for value in node.values():
            found |= _env_names(value)
        return found
    if isinstance(node, list):
        return {k: v for item in node for k, v in _env_names(item).items()}
    return {}


def _examples() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for n, match in enumerate(FENCE.finditer(text)):
            found.append((f"{doc.relative_to(ROOT)}#{n}", match[1]))
    return found


EXAMPLES = _examples()


def test_the_docs_have_toml_examples_to_check() -> None:
    names = {name.split("#")[0] for name, _ in EXAMPLES}
    assert {"README.md", "docs/configuration.md"} <= names


@pytest.mark.parametrize(("where", "example"), EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_a_documented_example_loads(tmp_path: Path, where: str, example: str) -> None:
    name = _provider_of(where)
    if name not in (None, "screenmeet") and provider_spec(name) is None:
        pytest.skip(f"{name} is not in the provider registry yet")
    text = PLACEHOLDER.sub("placeholder", example)
    (tmp_path / "users.toml").write_text(USERS, encoding="utf-8")
    (tmp_path / "people.csv").write_text(CSV_HEADER + "\n", encoding="utf-8")
    try:
        raw = _whole(where, text)
        settings_from_dict(raw, _env_names(raw), base_dir=tmp_path)
    except ConfigError as exc:
        pytest.fail(f"{where}: {exc}")


def test_a_directory_csv_with_every_contract_column_loads(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(
        f"{CSV_HEADER}\n"
        "ada,Ada Lovelace,Service Desk,62826bf03710200044e0bfc8bcbe5df1,ada@example.com,"
        "005000000000001AAA\n"
        "bob,Bob,Field,,,\n",
        encoding="utf-8",
    )
    path = tmp_path / "presence-dash.toml"
    path.write_text('[directory]\ncsv = "people.csv"\n', encoding="utf-8")
    people = load_settings(path, {}).people()
    assert people[0] == Person(
        "ada",
        "Ada Lovelace",
        "Service Desk",
        {
            "servicenow": "62826bf03710200044e0bfc8bcbe5df1",
            "cisco": "ada@example.com",
            "salesforce": "005000000000001AAA",
        },
    )
    assert people[1].source_ids == {}


def test_a_csv_id_is_checked_by_its_provider_with_the_key_path(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(f"{CSV_HEADER}\nada,Ada,T,NOT-HEX,,\n", "utf-8")
    path = tmp_path / "presence-dash.toml"
    path.write_text('[directory]\ncsv = "people.csv"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^people\[0\]\.servicenow: expected a 32-character"):
        load_settings(path, {})
