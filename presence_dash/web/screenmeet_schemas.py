"""The ScreenMeet request bodies (docs/api.md), as pydantic models for schemas.check_body
and the OpenAPI document. Types and shapes only: screenmeet/rules.py still decides what a
valid table name, sys_id or start time is, with its own error codes."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, StrictBool

from presence_dash.web.schemas import Body, Text

UTC_TIME_TEXT = "ISO 8601 UTC (`...Z`), in the future, e.g. 2026-08-10T15:30:00.000Z"


class Prefs(Body):
    """Agent options; unknown names are refused (usually a typo), omitted ones are false."""

    record: StrictBool = False
    prerequestrc: StrictBool = False
    prerequestadmin: StrictBool = False
    knock: StrictBool = False
    audio: StrictBool = False


class SessionBody(Body):
    # Fields the API does not know are ignored, as they always were.
    model_config = ConfigDict(extra="allow")

    type: Literal["support", "cobrowse", "live", "replay"]
    parent_object_table: Text = Field(description="a ServiceNow table name, e.g. incident")
    parent_object_sys_id: Text | None = Field(None, description="32 hex characters, or empty")
    parent_object_display_name: Text
    label: Text | None = None
    prefs: Prefs | None = None
    start_time: Text | None = Field(None, description=f"{UTC_TIME_TEXT}; null: start now")
    person_id: Text | None = Field(None, description="a configured person's id")


class RescheduleBody(Body):
    model_config = ConfigDict(extra="allow")

    start_time: Text = Field(description=UTC_TIME_TEXT)
