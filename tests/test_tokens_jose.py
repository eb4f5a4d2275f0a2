"""The compact form: canonical base64url, strict JSON, the header members never honoured."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authorizer.tokens import b64, jose
from authorizer.tokens.reasons import Failure


@given(st.binary(max_size=200))
def test_base64url_round_trips(raw: bytes) -> None:
    text = b64.encode(raw)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64.decode(text) == raw


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .\n", max_size=40))
def test_one_spelling_per_byte_string(text: str) -> None:
    """Whatever decodes is the canonical encoding of what it decodes to."""
    raw = b64.decode(text)
    if raw is not None:
        assert b64.encode(raw) == text


@pytest.mark.parametrize(
    "text",
    ["QQ==", "QQ=", "QR", "QUJ", "Q", "a+b/", "QQ ", " QQ", "QQ\n", "Q\x00Q", "QUJD\u00e9"],
)
def test_non_canonical_base64_is_refused(text: str) -> None:
    # QR and QUJ decode leniently to the bytes of QQ ("A") and QUI ("AB"): their unused bits are not zero
    assert b64.decode(text) is None


def _part(value: object) -> str:
    return b64.encode(json.dumps(value).encode())


HEADER, PAYLOAD, SIG = _part({"alg": "RS256", "kid": "k"}), _part({"iss": "i", "exp": 1}), b64.encode(b"sig")
DUPLICATE = b64.encode(b'{"exp":1,"exp":2}')
NAN = b64.encode(b'{"exp":NaN}')
INFINITY = b64.encode(b'{"exp":-Infinity}')
UTF16 = b64.encode(json.dumps({"exp": 1}).encode("utf-16"))
NOT_UTF8 = b64.encode(b"\xff\xfe")
DEEP = b64.encode(b"[" * 2000 + b"]" * 2000)
LARGE = b64.encode(b"{" + b" " * 10_300 + b"}")


def test_a_compact_token_is_parsed() -> None:
    parsed = jose.parse(f"{HEADER}.{PAYLOAD}.{SIG}")
    assert not isinstance(parsed, Failure)
    assert parsed.header == {"alg": "RS256", "kid": "k"} and parsed.claims == {"iss": "i", "exp": 1}
    assert parsed.signing_input == f"{HEADER}.{PAYLOAD}".encode() and parsed.signature == b"sig"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "token.malformed"),
        (f"{HEADER}.{PAYLOAD}", "token.malformed"),
        (f"{HEADER}.{PAYLOAD}.{SIG}.{SIG}", "token.malformed"),
        (f"{HEADER}.{PAYLOAD}.{SIG}.{SIG}.{SIG}", "token.encrypted"),
        (f"{HEADER}.{PAYLOAD}.{SIG}=", "token.malformed"),
        (f"{HEADER}..{SIG}", "token.malformed"),
        (f"{_part([1])}.{PAYLOAD}.{SIG}", "token.malformed"),
        (f"{HEADER}.{_part('claims')}.{SIG}", "token.malformed"),
        (f"{HEADER}.{DUPLICATE}.{SIG}", "token.malformed"),
        (f"{HEADER}.{NAN}.{SIG}", "token.malformed"),
        (f"{HEADER}.{INFINITY}.{SIG}", "token.malformed"),
        (f"{HEADER}.{UTF16}.{SIG}", "token.malformed"),
        (f"{HEADER}.{NOT_UTF8}.{SIG}", "token.malformed"),
        (f"{HEADER}.{DEEP}.{SIG}", "token.malformed"),
        (f"{_part({'alg': 'RS256', 'crit': ['exp']})}.{PAYLOAD}.{SIG}", "token.header"),
        (f"{_part({'alg': 'RS256', 'b64': False})}.{PAYLOAD}.{SIG}", "token.header"),
        (f"{_part({'alg': 'RS256', 'zip': 'DEF'})}.{PAYLOAD}.{SIG}", "token.header"),
        (f"{_part({'alg': 'RS256', 'cty': 'jwt'})}.{PAYLOAD}.{SIG}", "token.header"),
        (f"{_part({'alg': 'RSA-OAEP', 'enc': 'A256GCM'})}.{PAYLOAD}.{SIG}", "token.encrypted"),
        (f"{HEADER}.{LARGE}.{SIG}", "token.too_large"),
    ],
)
def test_what_is_not_a_compact_jws_is_refused(token: str, reason: str) -> None:
    assert jose.parse(token) == Failure(reason)  # type: ignore[arg-type]


def test_key_carrying_headers_are_parsed_but_never_read() -> None:
    """jwk/jku/x5u/x5c do not refuse a token: they are ignored (the verifier reads only alg and kid)."""
    header = _part({"alg": "RS256", "kid": "k", "jku": "https://x", "jwk": {}, "x5u": "u", "x5c": ["c"]})
    assert not isinstance(jose.parse(f"{header}.{PAYLOAD}.{SIG}"), Failure)


def test_standard_base64_with_padding_is_not_base64url() -> None:
    standard = base64.b64encode(b"\xfb\xff").decode()  # "+/8=": the standard alphabet
    assert b64.decode(standard) is None and b64.decode(standard.rstrip("=")) is None
