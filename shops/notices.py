"""Staff notifications and shop-ledger reasons worded when shown (``Notification.message`` and
``params``; ``BalanceEntry.reason_key`` and ``reason_params``).

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
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

# What a wording raises when its message is unknown or its facts do not fit it.
UNWORDABLE = (KeyError, TypeError, ValueError, IndexError)


def _worder(key: str, table: str) -> Callable[[dict[str, Any]], Any]:
    """The function wording ``key`` (``"<app>.<name>"``): ``<app>/notices.py`` ``table[name]``
    (``WORDINGS`` or ``REASONS``); ``KeyError`` when there is none."""
    app, _sep, name = key.partition(".")
    if not app or not name:
        raise KeyError(key)
    try:
        module = import_module(f"{app}.notices")
    except ImportError:
        raise KeyError(key) from None
    return getattr(module, table)[name]


def words(message: str, params: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of ``message`` with ``params`` in the active language."""
    title, body = _worder(message, "WORDINGS")(params)
    return str(title), str(body)


def reason_words(key: str, params: dict[str, Any]) -> str:
    """The ledger reason ``key`` with ``params`` in the active language."""
    return str(_worder(key, "REASONS")(params))


def shown(notification) -> tuple[str, str]:
    """(title, body) of a notification in the active language; the stored wording when it has
    no message or its facts cannot be worded."""
    if notification.message:
        try:
            return words(notification.message, notification.params or {})
        except UNWORDABLE:
            pass
    return notification.title, notification.body


# --- shop balance ledger reasons (``BalanceEntry``) ------------------------------------------


@dataclass(frozen=True)
class Reason:
    """A ledger reason as a message (``"<app>.<name>"``, worded by ``<app>/notices.py``
    ``REASONS[name](params) -> str``) and its facts; ``balance_debit``/``balance_credit`` store
    both and its English wording (``BalanceEntry.reason``)."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        with translation.override("en"):
            return reason_words(self.key, self.params)


def shown_reason(entry) -> str:
    """A ledger entry's reason in the active language; its stored text when it was written as
    text (a marketplace credit's own reason) or its facts cannot be worded."""
    if entry.reason_key:
        try:
            return reason_words(entry.reason_key, entry.reason_params or {})
        except UNWORDABLE:
            pass
    return entry.reason


# The platform's own ledger reasons (the modules' are in ``<app>/notices.py``).
REASONS = {
    "marketplace_credit": lambda p: _("Marketplace credit"),
    "marketplace_payout": lambda p: _("Marketplace settlement payout"),
}
