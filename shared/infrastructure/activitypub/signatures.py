"""HTTP signatures as the fediverse uses them (draft-cavage-http-signatures-12).

Outgoing requests are signed by ``HTTPSignatureAuth``, an ``httpx.Auth``, so
every client signs the same way: ``(request-target) host date`` plus
``digest`` when there is a body, with rsa-sha256 and a keyId of the actor URL
followed by ``#main-key``.

Incoming requests are checked in two steps, because the key has to be
fetched in between: ``inspect_request`` checks everything that needs no key
(the header syntax, the signed header list, the clock window, the Digest),
and ``verify_with_key`` checks the signature itself. Both return a
``VerificationResult`` whose ``problem`` says why a request failed;
``STATUS_FOR_PROBLEM`` is the one place that maps a problem to 400, 401 or 403.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

DEFAULT_MAX_AGE = timedelta(hours=12)
DEFAULT_MAX_FUTURE = timedelta(hours=1)
ACCEPTED_ALGORITHMS = ("rsa-sha256", "hs2019")
# Digest algorithm names (RFC 3230, case-insensitive) and the hash behind each.
DIGEST_ALGORITHMS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}

_PARAMETER = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^",\s]*))\s*(?:,|$)')


class SignatureProblem(enum.Enum):
    MISSING = "missing"
    MALFORMED = "malformed"
    UNSUPPORTED_ALGORITHM = "unsupported algorithm"
    HEADERS_NOT_SIGNED = "required headers not signed"
    INVALID_DATE = "invalid date"
    STALE_DATE = "date too old"
    FUTURE_DATE = "date in the future"
    DIGEST_MISSING = "digest missing"
    DIGEST_MISMATCH = "digest mismatch"
    UNKNOWN_KEY = "unknown key"
    BAD_SIGNATURE = "bad signature"
    ACTOR_MISMATCH = "actor is not the signer"
    BLOCKED = "domain blocked"


# The one mapping from a failed verification to an HTTP status.
STATUS_FOR_PROBLEM = {
    SignatureProblem.MISSING: 401,
    SignatureProblem.MALFORMED: 400,
    SignatureProblem.UNSUPPORTED_ALGORITHM: 401,
    SignatureProblem.HEADERS_NOT_SIGNED: 401,
    SignatureProblem.INVALID_DATE: 400,
    SignatureProblem.STALE_DATE: 401,
    SignatureProblem.FUTURE_DATE: 401,
    SignatureProblem.DIGEST_MISSING: 401,
    SignatureProblem.DIGEST_MISMATCH: 401,
    SignatureProblem.UNKNOWN_KEY: 401,
    SignatureProblem.BAD_SIGNATURE: 401,
    SignatureProblem.ACTOR_MISMATCH: 401,
    SignatureProblem.BLOCKED: 403,
}


@dataclass(frozen=True)
class ParsedSignature:
    """The parameters of a Signature header and the signing strings they imply."""

    key_id: str
    algorithm: str | None
    header_names: tuple[str, ...]
    signature: bytes
    # Candidate signing strings: the first uses the target as received; the
    # second, when there is a query, the path alone, as Mastodon also accepts.
    signing_strings: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of checking a signed request; ``problem`` is None when it verified."""

    problem: SignatureProblem | None
    detail: str = ""
    key_id: str | None = None
    actor_uri: str | None = None
    parsed: ParsedSignature | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def status(self) -> int:
        return 200 if self.problem is None else STATUS_FOR_PROBLEM[self.problem]

    @classmethod
    def failed(cls, problem: SignatureProblem, detail: str, key_id: str | None = None) -> VerificationResult:
        return cls(problem, detail, key_id)


class SignatureHeaderError(ValueError):
    pass


def parse_signature_header(value: str) -> dict[str, str]:
    """Parse ``keyId="…",algorithm="…",headers="…",signature="…"`` into a dict.

    Tolerates a leading ``Signature `` scheme word (the Authorization form,
    and old node-http-signature senders) and whitespace around the commas.
    Raises SignatureHeaderError for text that is not a parameter list.
    """
    text = value.strip()
    if text[:10].lower() == "signature ":
        text = text[10:]
    parameters: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _PARAMETER.match(text, position)
        if match is None or match.end() == position:
            raise SignatureHeaderError(f"invalid Signature header near character {position}")
        name = match.group(1)
        quoted, token = match.group(2), match.group(3)
        parameters[name] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else token
        position = match.end()
    return parameters


def load_public_key(pem: str):
    """Load an SPKI (``PUBLIC KEY``) or PKCS#1 (``RSA PUBLIC KEY``) PEM, tolerating stray blank lines."""
    lines = [line.strip() for line in pem.strip().splitlines() if line.strip()]
    return serialization.load_pem_public_key(("\n".join(lines) + "\n").encode("ascii"))


def load_private_key(pem: str):
    return serialization.load_pem_private_key(pem.encode("ascii"), password=None)


def digest_header(body: bytes, algorithm: str = "SHA-256") -> str:
    hasher = DIGEST_ALGORITHMS[algorithm.lower()]
    return f"{algorithm}={base64.b64encode(hasher(body).digest()).decode('ascii')}"


def check_digest(value: str | None, body: bytes) -> tuple[SignatureProblem, str] | None:
    """Check a Digest header against the body; returns the problem, or None when one supported entry matches."""
    if not value:
        return SignatureProblem.DIGEST_MISSING, "the request has a body but no Digest header"
    supported = 0
    for entry in value.split(","):
        name, _, given = entry.strip().partition("=")
        hasher = DIGEST_ALGORITHMS.get(name.strip().lower())
        if hasher is None:
            continue
        supported += 1
        computed = base64.b64encode(hasher(body).digest()).decode("ascii")
        if given.strip() != computed:
            return SignatureProblem.DIGEST_MISMATCH, f"computed {name.strip().upper()} digest {computed}, given {given.strip()}"
    if supported == 0:
        return SignatureProblem.DIGEST_MISSING, "the Digest header has no SHA-256 or SHA-512 entry"
    return None


def build_signing_string(
    header_names: tuple[str, ...],
    method: str,
    target: str,
    headers: Mapping[str, str],
    parameters: Mapping[str, str] | None = None,
) -> str:
    """Build the draft-cavage signing string; ``headers`` maps lowercase names to values.

    Raises KeyError naming a signed header the request does not have.
    """
    parameters = parameters or {}
    lines = []
    for name in header_names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in ("(created)", "(expires)"):
            lines.append(f"{name}: {parameters[name.strip('()')]}")
        else:
            lines.append(f"{name}: {headers[name]}")
    return "\n".join(lines)


def sign_bytes(private_key, data: bytes) -> bytes:
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return private_key.sign(data)
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def signature_matches(public_key, data: bytes, signature: bytes) -> bool:
    """Check an RSASSA-PKCS1-v1_5 SHA-256 signature (rsa-sha256 and hs2019 alike), or Ed25519 for an Ed25519 key."""
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return True


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def signed_headers(
    method: str,
    url: str,
    body: bytes | None,
    key_id: str,
    private_key,
    now: datetime | None = None,
    host: str | None = None,
) -> dict[str, str]:
    """Return the Date, Host, Digest (when there is a body) and Signature headers for a request."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    values = {"host": host or parts.netloc, "date": http_date(now or datetime.now(timezone.utc))}
    names = ["(request-target)", "host", "date"]
    if body is not None and (body or method.upper() not in ("GET", "HEAD")):
        values["digest"] = digest_header(body)
        names.append("digest")
    signing_string = build_signing_string(tuple(names), method, target, values)
    signature = base64.b64encode(sign_bytes(private_key, signing_string.encode("utf-8"))).decode("ascii")
    result = {name.title(): value for name, value in values.items()}
    result["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",signature="{signature}"'
    )
    return result


class HTTPSignatureAuth(httpx.Auth):
    """Sign every request as ``key_id`` when it is sent, so a retry carries a fresh Date.

    The Host header signed is the one already on the request, so a caller
    that connects to a pinned address keeps the name it resolved.
    """

    requires_request_body = True

    def __init__(self, key_id: str, private_key) -> None:
        self.key_id = key_id
        self.private_key = private_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body = request.content if request.method not in ("GET", "HEAD") else None
        headers = signed_headers(
            request.method, str(request.url), body, self.key_id, self.private_key, host=request.headers.get("Host")
        )
        for name, value in headers.items():
            request.headers[name] = value
        yield request


def _parse_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _check_clock(
    headers: Mapping[str, str], parameters: Mapping[str, str], header_names: tuple[str, ...],
    now: datetime, max_age: timedelta, max_future: timedelta,
) -> tuple[SignatureProblem, str] | None:
    if "date" in header_names:
        created = _parse_date(headers.get("date", ""))
        if created is None:
            return SignatureProblem.INVALID_DATE, f"invalid Date header {headers.get('date', '')!r}"
    else:
        try:
            created = datetime.fromtimestamp(int(parameters["created"]), timezone.utc)
        except (KeyError, ValueError, OverflowError):
            return SignatureProblem.INVALID_DATE, "the signature covers (created) but has no valid created parameter"
    if created < now - max_age:
        return SignatureProblem.STALE_DATE, f"signed at {http_date(created)}, more than {max_age} ago"
    if created > now + max_future:
        return SignatureProblem.FUTURE_DATE, f"signed at {http_date(created)}, more than {max_future} ahead"
    return None


def _required_headers_problem(header_names: tuple[str, ...], has_body: bool) -> str | None:
    missing = []
    if "(request-target)" not in header_names:
        missing.append("(request-target)")
    if "host" not in header_names:
        missing.append("host")
    if "date" not in header_names and "(created)" not in header_names:
        missing.append("date")
    if has_body and "digest" not in header_names:
        missing.append("digest")
    return f"the signature must cover {', '.join(missing)}" if missing else None


def inspect_request(
    method: str,
    target: str,
    host: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
    max_age: timedelta = DEFAULT_MAX_AGE,
    max_future: timedelta = DEFAULT_MAX_FUTURE,
) -> VerificationResult:
    """Check a request's signature parameters, clock and Digest, everything but the key itself.

    ``target`` is the raw path and query exactly as received and ``host`` the
    public host the sender addressed. ``headers`` maps lowercase names to
    values. A result without a problem carries ``parsed``, ready for
    ``verify_with_key``.
    """
    now = now or datetime.now(timezone.utc)
    raw = headers.get("signature")
    if not raw:
        return VerificationResult.failed(SignatureProblem.MISSING, "the request has no Signature header")
    try:
        parameters = parse_signature_header(raw)
    except SignatureHeaderError as error:
        return VerificationResult.failed(SignatureProblem.MALFORMED, str(error))
    key_id = parameters.get("keyId")
    if not key_id or not parameters.get("signature"):
        return VerificationResult.failed(SignatureProblem.MALFORMED, "the Signature header needs keyId and signature")
    algorithm = parameters.get("algorithm")
    if algorithm is not None and algorithm.lower() not in ACCEPTED_ALGORITHMS:
        return VerificationResult.failed(
            SignatureProblem.UNSUPPORTED_ALGORITHM, f"algorithm {algorithm!r} is not supported; use rsa-sha256 or hs2019", key_id
        )
    try:
        signature = base64.b64decode(parameters["signature"], validate=True)
    except ValueError:
        return VerificationResult.failed(SignatureProblem.MALFORMED, "the signature is not valid base64", key_id)

    header_names = tuple((parameters.get("headers") or "date").lower().split())
    weak = _required_headers_problem(header_names, bool(body))
    if weak:
        return VerificationResult.failed(SignatureProblem.HEADERS_NOT_SIGNED, weak, key_id)
    clock = _check_clock(headers, parameters, header_names, now, max_age, max_future)
    if clock:
        return VerificationResult.failed(*clock, key_id=key_id)
    if body or "digest" in header_names:
        digest_problem = check_digest(headers.get("digest"), body)
        if digest_problem:
            return VerificationResult.failed(*digest_problem, key_id=key_id)

    values = {**headers, "host": host}
    targets = [target]
    if "?" in target:
        targets.append(target.split("?", 1)[0])
    try:
        strings = tuple(build_signing_string(header_names, method, t, values, parameters) for t in targets)
    except KeyError as error:
        return VerificationResult.failed(SignatureProblem.MALFORMED, f"the signed header {error.args[0]} is missing", key_id)
    parsed = ParsedSignature(key_id, algorithm, header_names, signature, strings)
    return VerificationResult(None, "", key_id, None, parsed)


def verify_with_key(parsed: ParsedSignature, public_key) -> bool:
    """Check the signature against each candidate signing string with ``public_key``."""
    return any(signature_matches(public_key, text.encode("utf-8"), parsed.signature) for text in parsed.signing_strings)
