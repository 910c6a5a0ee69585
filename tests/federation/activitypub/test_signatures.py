"""HTTP signatures: the draft's own test vectors, Mastodon's vectors, and our signer and checks."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from shared.infrastructure.activitypub.actors import generate_keypair, parse_private_key
from shared.infrastructure.activitypub.signatures import (
    STATUS_FOR_PROBLEM, HTTPSignatureAuth, SignatureProblem, VerificationResult, build_signing_string,
    digest_header, inspect_request, load_public_key, parse_signature_header, signature_matches, signed_headers,
    verify_with_key,
)


@pytest.fixture(scope="module")
def cavage(fixtures_dir):
    return json.loads((fixtures_dir / "http-signatures" / "draft-cavage-12-appendix-c-vectors.json").read_text())


@pytest.fixture(scope="module")
def mastodon(fixtures_dir):
    return json.loads((fixtures_dir / "http-signatures" / "mastodon-signature-verification-spec-vectors.json").read_text())


def _request_headers(cavage) -> dict[str, str]:
    lines = cavage["request"].split("\n\n", 1)[0].splitlines()[1:]
    return {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}


def _test(cavage, appendix: str) -> dict:
    return next(test for test in cavage["tests"] if test["appendix"] == appendix)


def test_cavage_c1_default_test_verifies(cavage):
    test = _test(cavage, "C.1")
    signing_string = build_signing_string(("date",), "POST", "/foo?param=value&pet=dog", _request_headers(cavage))
    assert signing_string == test["signing_string"]
    parsed = parse_signature_header(test["signature_header"])
    assert parsed["keyId"] == "Test"
    assert signature_matches(load_public_key(cavage["public_key_pem"]), signing_string.encode(), base64.b64decode(parsed["signature"]))


def test_cavage_c2_basic_test_verifies(cavage):
    test = _test(cavage, "C.2")
    parsed = parse_signature_header(test["authorization_header"])
    names = tuple(parsed["headers"].split())
    headers = _request_headers(cavage)
    signing_string = build_signing_string(names, "POST", "/foo?param=value&pet=dog", headers)
    assert signing_string == test["signing_string"]
    assert signature_matches(load_public_key(cavage["public_key_pem"]), signing_string.encode(), base64.b64decode(parsed["signature"]))


def test_cavage_c3_all_headers_test_verifies(cavage):
    test = _test(cavage, "C.3")
    variant = test["consistent_variant_for_earlier_drafts"]
    signing_string = build_signing_string(
        tuple(variant["headers_param"].split()), "POST", "/foo?param=value&pet=dog", _request_headers(cavage)
    )
    assert signing_string == variant["signing_string"]
    key = load_public_key(cavage["public_key_pem"])
    assert signature_matches(key, signing_string.encode(), base64.b64decode(variant["signature_b64"]))


def test_cavage_private_key_signs_c2_identically(cavage):
    test = _test(cavage, "C.2")
    private_key = serialization.load_pem_private_key(cavage["private_key_pem_pkcs1"].encode(), password=None)
    from shared.infrastructure.activitypub.signatures import sign_bytes

    assert base64.b64encode(sign_bytes(private_key, test["signing_string"].encode())).decode() == test["signature_b64"]


def _mastodon_case(mastodon, name):
    return next(case for case in mastodon["cases"] if case["name"] == name)


def _mastodon_inspect(mastodon, case, body=b"", path=None, now=None):
    headers = {name.lower(): value for name, value in case["request_headers"].items()}
    headers["signature"] = case["signature_header"]
    clock = now or datetime(2023, 12, 20, 10, 0, tzinfo=timezone.utc)
    return inspect_request(case["method"], path or case["path"], headers["host"], headers, body, clock)


@pytest.mark.parametrize("name", ["get", "get_query"])
def test_mastodon_vectors_verify(mastodon, name):
    case = _mastodon_case(mastodon, name)
    result = _mastodon_inspect(mastodon, case)
    assert result.ok, result.detail
    assert result.key_id == mastodon["actor"]["key_id"]
    assert verify_with_key(result.parsed, load_public_key(mastodon["public_key_pem_spki_derived"]))


def test_signature_without_query_still_verifies(mastodon):
    case = _mastodon_case(mastodon, "get")
    result = _mastodon_inspect(mastodon, case, path="/activitypub/success?foo=42")
    assert verify_with_key(result.parsed, load_public_key(mastodon["public_key_pem_spki_derived"]))


def test_signature_for_other_path_does_not_verify(mastodon):
    case = _mastodon_case(mastodon, "get")
    result = _mastodon_inspect(mastodon, case, path="/activitypub/alternative-path")
    assert not verify_with_key(result.parsed, load_public_key(mastodon["public_key_pem_spki_derived"]))


def test_mastodon_post_vectors(mastodon):
    for case in mastodon["cases"]:
        if case["method"] != "POST":
            continue
        body = (case.get("body") or "").encode()
        result = _mastodon_inspect(mastodon, case, body=body)
        if "digest" in case["signature_header"].split('headers="', 1)[1].split('"', 1)[0]:
            assert result.ok, (case["name"], result.detail)
            assert verify_with_key(result.parsed, load_public_key(mastodon["public_key_pem_spki_derived"])), case["name"]
        else:
            assert result.problem is SignatureProblem.HEADERS_NOT_SIGNED, case["name"]


def test_mastodon_get_one_day_later_is_stale(mastodon):
    case = _mastodon_case(mastodon, "get")
    later = datetime(2023, 12, 21, 10, 0, tzinfo=timezone.utc)
    assert _mastodon_inspect(mastodon, case, now=later).problem is SignatureProblem.STALE_DATE


@pytest.fixture(scope="module")
def keypair():
    public_pem, private_pem = generate_keypair()
    return load_public_key(public_pem), parse_private_key(private_pem)


def _signed(keypair, body=b'{"a":1}', url="https://example.org/inbox", **options):
    headers = {name.lower(): value for name, value in signed_headers("POST", url, body, "https://x.example/actor#main-key", keypair[1], **options).items()}
    return headers


def test_own_signature_round_trips(keypair):
    headers = _signed(keypair)
    result = inspect_request("POST", "/inbox", "example.org", headers, b'{"a":1}')
    assert result.ok
    assert verify_with_key(result.parsed, keypair[0])


def test_wrong_host_does_not_verify(keypair):
    headers = _signed(keypair)
    result = inspect_request("POST", "/inbox", "upstream:8000", headers, b'{"a":1}')
    assert not verify_with_key(result.parsed, keypair[0])


def test_digest_mismatch_is_reported(keypair):
    result = inspect_request("POST", "/inbox", "example.org", _signed(keypair), b'{"a":2}')
    assert result.problem is SignatureProblem.DIGEST_MISMATCH
    assert "computed SHA-256 digest" in result.detail


def test_sha512_digest_is_accepted(keypair):
    body = b'{"a":1}'
    headers = _signed(keypair, body)
    headers["digest"] = digest_header(body, "SHA-512")
    result = inspect_request("POST", "/inbox", "example.org", headers, body)
    assert result.problem is None
    assert not verify_with_key(result.parsed, keypair[0])  # the signed Digest value changed


def test_future_date_is_refused(keypair):
    headers = _signed(keypair, now=datetime.now(timezone.utc) + timedelta(hours=2))
    assert inspect_request("POST", "/inbox", "example.org", headers, b'{"a":1}').problem is SignatureProblem.FUTURE_DATE


def test_date_window_is_configurable(keypair):
    headers = _signed(keypair, now=datetime.now(timezone.utc) - timedelta(hours=2))
    result = inspect_request("POST", "/inbox", "example.org", headers, b'{"a":1}', max_age=timedelta(hours=1))
    assert result.problem is SignatureProblem.STALE_DATE


@pytest.mark.parametrize("algorithm", ["hs2019", None])
def test_hs2019_and_missing_algorithm_verify_as_rsa_sha256(keypair, algorithm):
    headers = _signed(keypair)
    replacement = f'algorithm="{algorithm}",' if algorithm else ""
    headers["signature"] = headers["signature"].replace('algorithm="rsa-sha256",', replacement)
    result = inspect_request("POST", "/inbox", "example.org", headers, b'{"a":1}')
    assert result.ok
    assert verify_with_key(result.parsed, keypair[0])


def test_unsupported_algorithm_is_refused(keypair):
    headers = _signed(keypair)
    headers["signature"] = headers["signature"].replace("rsa-sha256", "hmac-sha256")
    assert inspect_request("POST", "/inbox", "example.org", headers, b'{"a":1}').problem is SignatureProblem.UNSUPPORTED_ALGORITHM


def test_signature_without_host_is_refused(keypair):
    headers = _signed(keypair)
    headers["signature"] = headers["signature"].replace('headers="(request-target) host date digest"', 'headers="(request-target) date digest"')
    result = inspect_request("POST", "/inbox", "example.org", headers, b'{"a":1}')
    assert result.problem is SignatureProblem.HEADERS_NOT_SIGNED
    assert "host" in result.detail


def test_header_parser_tolerates_prefix_and_spaces():
    parsed = parse_signature_header('Signature keyId="a" , algorithm=rsa-sha256,  signature="b=="')
    assert parsed == {"keyId": "a", "algorithm": "rsa-sha256", "signature": "b=="}


def test_pkcs1_public_key_with_blank_line_loads(keypair):
    pkcs1 = keypair[0].public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1).decode()
    messy = pkcs1.replace("\n", "\n\n", 1)
    assert load_public_key(messy).public_numbers() == keypair[0].public_numbers()


def test_problem_statuses_are_mapped_in_one_place():
    assert set(STATUS_FOR_PROBLEM) == set(SignatureProblem)
    assert VerificationResult.failed(SignatureProblem.MALFORMED, "x").status == 400
    assert VerificationResult.failed(SignatureProblem.BAD_SIGNATURE, "x").status == 401
    assert VerificationResult.failed(SignatureProblem.BLOCKED, "x").status == 403


def test_auth_signs_each_send_with_a_fresh_date(keypair):
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))
        return httpx.Response(202)

    auth = HTTPSignatureAuth("https://x.example/actor#main-key", keypair[1])
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        client.post("http://127.0.0.1:9/inbox", content=b"{}", auth=auth)
    headers = {name.lower(): value for name, value in seen[0].items()}
    assert headers["digest"] == digest_header(b"{}")
    result = inspect_request("POST", "/inbox", "127.0.0.1:9", headers, b"{}")
    assert result.ok
    assert verify_with_key(result.parsed, keypair[0])


@pytest.mark.parametrize(("name", "problem"), [("bad_date", SignatureProblem.INVALID_DATE), ("old", SignatureProblem.STALE_DATE)])
def test_mastodon_date_vectors_are_refused(mastodon, name, problem):
    assert _mastodon_inspect(mastodon, _mastodon_case(mastodon, name)).problem is problem
