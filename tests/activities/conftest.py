import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)  # for ``from actkit import ...``

from actkit import Seller, make_activity  # noqa: E402


@pytest.fixture
def seller(db):
    return Seller()


@pytest.fixture
def activity(db):
    return make_activity()
