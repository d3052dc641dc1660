import pytest

from integrations.services import integration_create

from .support import Sender


@pytest.fixture
def sender(db) -> Sender:
    """A signed-request sender for a fresh integration."""
    integration, secret = integration_create(name="Marketplace")
    return Sender(integration, secret)
