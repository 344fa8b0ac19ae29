"""`[[teams]]` thresholds (v1.1): defaults off, whole numbers >= 0, a team listed once."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from presence_dash.alerts.thresholds import Thresholds
from presence_dash.config import ConfigError, load_settings, settings_from_dict

# The CONTRACT's [[teams]] example, plus max_busy_minutes.
CONTRACT_TEAMS = """
[[teams]]                        # optional thresholds per team (v1.1)
name = "Service Desk"
min_online = 4                   # the team's tile alerts below this
max_away_minutes = 15            # a person away longer is flagged
max_busy_minutes = 60

[[teams]]
name = "Network Operations"
min_online = 2

[[people]]
id = "ada"
name = "Ada Lovelace"
team = "Service Desk"
"""


def test_the_contract_example_gives_thresholds_by_team(tmp_path: Path) -> None:
    path = tmp_path / "presence-dash.toml"
    path.write_text(textwrap.dedent(CONTRACT_TEAMS), encoding="utf-8")
    thresholds = load_settings(path, {}).thresholds()
    assert thresholds == {
        "Service Desk": Thresholds(min_online=4, max_away_minutes=15, max_busy_minutes=60),
        "Network Operations": Thresholds(min_online=2),
    }


def test_without_teams_there_are_no_thresholds() -> None:
    assert settings_from_dict({}, {}).thresholds() == {}


def test_a_team_only_the_csv_or_nobody_has_is_allowed() -> None:
    settings = settings_from_dict({"teams": [{"name": "Night Shift", "min_online": 1}]}, {})
    assert settings.thresholds()["Night Shift"].min_online == 1


def test_zero_is_a_valid_threshold() -> None:
    team = {"name": "Desk", "min_online": 0, "max_away_minutes": 0, "max_busy_minutes": 0}
    assert settings_from_dict({"teams": [team]}, {}).thresholds()["Desk"] == Thresholds(0, 0, 0)


def test_a_team_listed_twice_is_an_error_naming_both_entries() -> None:
    teams = [{"name": "Desk"}, {"name": "Field"}, {"name": "Desk", "min_online": 2}]
    with pytest.raises(ConfigError) as err:
        settings_from_dict({"teams": teams}, {})
    assert str(err.value) == "teams: duplicate name 'Desk' in teams[2] (first in teams[0])"


@pytest.mark.parametrize(
    ("team", "message"),
    [
        ({"name": "Desk", "min_online": -1}, "teams[0].min_online: Input should be greater"),
        ({"name": "Desk", "max_away_minutes": 1.5}, "teams[0].max_away_minutes: Input should be"),
        ({"name": "Desk", "max_busy_minutes": True}, "teams[0].max_busy_minutes: Input should be"),
        ({"name": "Desk", "min_online": "4"}, "teams[0].min_online: Input should be"),
        ({"name": "Desk", "max_away_mins": 5}, "teams[0].max_away_mins: unknown key"),
        ({"min_online": 4}, "teams[0].name: required key is missing"),
        ({"name": "  "}, "teams[0].name: String should have at least 1 character"),
    ],
)
def test_bad_team_entries_name_the_key(team: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_dict({"teams": [team]}, {})
    assert str(err.value).startswith(message)


def test_the_demo_has_valid_thresholds_for_each_of_its_teams() -> None:
    from presence_dash.demo import TEAM_THRESHOLDS, TEAMS

    settings = settings_from_dict({"teams": TEAM_THRESHOLDS}, {})
    assert set(settings.thresholds()) == set(TEAMS)
    assert any(t.min_online for t in settings.thresholds().values())
    assert any(t.max_busy_minutes for t in settings.thresholds().values())
