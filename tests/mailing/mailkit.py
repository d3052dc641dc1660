"""Helpers of the mailing tests."""

from mailing import dns


def publish(server, domain, *, skip=(), override=None):
    """Put the records ``domain`` needs into the test DNS server's zone (all right), except the
    codes in ``skip``; ``override`` maps a code to the values to publish instead."""
    override = override or {}
    for record in dns.expected_records(domain):
        server.zone.pop(record.name, None)
        if record.code in skip:
            continue
        server.zone[record.name] = override.get(record.code, [record.expected])
