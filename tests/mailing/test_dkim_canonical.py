"""SPEC M-2: the batch signer's relaxed canonicalisation (``mailing.dkim``) gives exactly the
bytes dkimpy's own gives, for bodies and header values full of spaces, tabs and line ends."""

from __future__ import annotations

from dkim import canonicalization
from hypothesis import given
from hypothesis import strategies as st

from mailing import dkim

_CHUNKS = st.sampled_from([b" ", b"  ", b"\t", b" \t ", b"a", b"xyz", b"\r\n", b"\n", b"=20"])
_TEXT = st.lists(_CHUNKS, max_size=40).map(b"".join)


@given(body=_TEXT)
def test_m2_relaxed_body_is_dkimpys(body):
    crlf = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # what _parse hands it
    assert dkim._relaxed_body(crlf) == canonicalization.Relaxed.canonicalize_body(crlf)


@given(value=_TEXT, name=st.sampled_from([b"Subject", b"To ", b"List-Unsubscribe"]))
def test_m2_relaxed_header_is_dkimpys(name, value):
    value = value.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n ") + b"\r\n"
    assert dkim._relaxed_header(name, value) == tuple(
        canonicalization.Relaxed.canonicalize_headers([(name, value)])[0]
    )


def test_m2_a_lone_space_stays_and_runs_become_one():
    assert dkim._relaxed_body(b"a b  c\t\td \t e\r\n") == b"a b c d e\r\n"
    assert dkim._relaxed_body(b"a b \r\n\r\n") == b"a b\r\n"
