"""Staff notifications worded when shown (``Notification.message`` and ``params``).

A module that tells a shop's staff something names the message (``"<app>.<name>"``) and its
facts; the wording lives in ``<app>/notices.py`` as ``WORDINGS[name](params) -> (title, body)``
and runs in the language of whoever reads it — the notifications page in Chinese shows the
notification in Chinese, whatever language the job that wrote it ran in. The row also keeps
the English wording (``title``/``body``: the admin, the email, and the fallback when the facts
cannot be worded any more, e.g. a message since renamed).

Facts are plain JSON values: numbers, codes, order numbers, amounts in minor units with their
currency, names as typed.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

Wording = Callable[[dict[str, Any]], tuple[str, str]]


def wording_for(message: str) -> Wording:
    """The wording of ``message`` (``"<app>.<name>"``); ``KeyError`` when there is none."""
    app, _sep, name = message.partition(".")
    if not app or not name:
        raise KeyError(message)
    try:
        module = import_module(f"{app}.notices")
    except ImportError:
        raise KeyError(message) from None
    return module.WORDINGS[name]


def words(message: str, params: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of ``message`` with ``params`` in the active language."""
    title, body = wording_for(message)(params)
    return str(title), str(body)


def shown(notification) -> tuple[str, str]:
    """(title, body) of a notification in the active language; the stored wording when it has
    no message or its facts cannot be worded."""
    if notification.message:
        try:
            return words(notification.message, notification.params or {})
        except (KeyError, TypeError, ValueError, IndexError):
            pass
    return notification.title, notification.body
