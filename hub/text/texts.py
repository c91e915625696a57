"""Parameters every app may use in messages (see hub.text.message)."""

from __future__ import annotations

from hub.text.formats import money_param, when_param
from hub.text.message import register_param

register_param("money", money_param)
register_param("when", when_param)
