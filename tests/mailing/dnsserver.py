"""A tiny authoritative DNS server for tests (UDP, loopback, a random port), built on dnspython's
message API: it answers TXT questions from ``zone`` (name → list of TXT values) and NXDOMAIN for
any other name. Tests change ``zone`` while it runs (records missing → wrong → fixed).

    with DnsServer() as server:
        server.zone["_dmarc.promo.example.com"] = ["v=DMARC1; p=none"]
        settings.SC_MAILING_DNS_NAMESERVERS = ["127.0.0.1"]
        settings.SC_MAILING_DNS_PORT = server.port
"""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def _chunks(value: str) -> list[str]:
    # A TXT character-string holds at most 255 bytes: long values (DKIM keys) are split.
    raw = value.encode()
    return [raw[i : i + 255].decode() for i in range(0, len(raw), 255)] or [""]


class DnsServer:
    def __init__(self) -> None:
        self.zone: dict[str, list[str]] = {}
        self.queries: list[str] = []
        self.fail = False  # answer SERVFAIL to everything
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def _answer(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.queries.append(name)
        if self.fail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        values = self.zone.get(name)
        if values is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.TXT and values:
            texts = [" ".join(f'"{c}"' for c in _chunks(v.replace('"', '\\"'))) for v in values]
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, dns.rdataclass.IN, "TXT", texts)
            )
        return response.to_wire()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, addr = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                self.sock.sendto(self._answer(wire), addr)
            except Exception:  # a malformed query gets no answer
                continue
