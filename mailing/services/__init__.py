"""Mailing's writes, one module per part (DESIGN §2). ``services.setup``: enabling (M-1) and the
set-up before the first send (M-2): sender domain and its DNS verification, brand, templates."""

from .setup import *  # noqa: F403
