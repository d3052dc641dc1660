"""The register benchmark's workload (no server): unique contacts, client addresses and devices,
each body valid for the buyer API's schema."""

import json

from bench import register
from buyers.api import RegisterIn


def test_b1_bench_register_bodies_are_unique_and_schema_valid():
    bodies = [json.loads(b) for b in register.bodies(count=300, tag="T")]
    assert len({b["contact"] for b in bodies}) == 300
    assert len({b["client_ip"] for b in bodies}) == 300
    assert len({b["device_id"] for b in bodies}) == 300
    for b in bodies[:5]:
        RegisterIn(**b)
    assert all(b["contact"].startswith(register.EMAIL_PREFIX) for b in bodies)
