"""What every time-dependent part is given instead of reading the wall clock itself, so tests
and simulators can drive time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], datetime]  # returns an aware UTC datetime
