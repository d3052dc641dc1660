"""Reading buyer codes out of the test mailboxes (mail.outbox, buyers.sms.outbox)."""

import re

from django.core import mail

from buyers import sms


def last_code(to: str) -> str:
    """The 6-digit code of the last message sent to ``to`` (email or SMS)."""
    texts = [m.body for m in mail.outbox if to in m.to] + [s.text for s in sms.outbox if s.to == to]
    assert texts, f"nothing sent to {to}"
    found = re.search(r"\b(\d{6})\b", texts[-1])
    assert found, texts[-1]
    return found.group(1)
