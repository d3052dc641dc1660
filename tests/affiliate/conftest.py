import sys
from pathlib import Path

import pytest

from affiliate.services import clicks

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)  # for ``import affkit``


@pytest.fixture(autouse=True)
def _empty_click_buffer(settings):
    """Each test starts with an empty click buffer, no flush lock and no cached link."""
    settings.SC_AFFILIATE_REDIRECT_HOSTS = ["www.aliexpress.com", "aliexpress.com"]
    client = clicks.redis_client()
    if client is not None:
        client.delete(clicks.QUEUE, clicks.PROCESSING, clicks.LOCK, clicks.DEAD)
        for key in client.scan_iter(f"{clicks._TARGET}*"):
            client.delete(key)
    from django.core.cache import cache

    cache.clear()
    yield
    if client is not None:
        client.delete(clicks.QUEUE, clicks.PROCESSING, clicks.LOCK, clicks.DEAD)
