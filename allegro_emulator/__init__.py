"""Stand-alone emulator of the parts of Allegro's REST API the hub uses.

Never imports ``hub`` and runs without Django. See README.md.
"""

from __future__ import annotations

from allegro_emulator.clock import Clock
from allegro_emulator.config import EmulatorConfig
from allegro_emulator.emulator import Emulator
from allegro_emulator.web import MEDIA_TYPE, ControlError

__all__ = ["MEDIA_TYPE", "Clock", "ControlError", "Emulator", "EmulatorConfig"]
