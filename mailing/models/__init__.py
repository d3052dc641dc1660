"""Mailing's models, one file per part of the module (set-up, audience, campaigns); Django finds
them through the names imported here."""

from .audience import *  # noqa: F403
from .campaigns import *  # noqa: F403
from .setup import *  # noqa: F403
