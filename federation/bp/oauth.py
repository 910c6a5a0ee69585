"""The OAuth 2.0 authorization server and OpenID Connect provider endpoints.

Discovery (RFC 8414, OpenID Connect Discovery), the authorization endpoint
with PKCE (RFC 7636, S256 only), the token endpoint (codes and rotating
refresh tokens), revocation (RFC 7009), introspection (RFC 7662), userinfo,
the JWKS and RP-initiated logout. The rules behind them live in
``federation.oauth``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from joserfc.errors import JoseError
from quart import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from federation.bp.auth import end_member_session, key_store, signed_in_member_id
from federation.oauth import grants
from federation.oauth.clients import authenticate_client, find_client
from federation.oauth.errors import OAuthError, invalid_request
from federation.oauth.keys import KEY_RELOAD_SECONDS
from federation.oauth.identity import (
    SUPPORTED_SCOPES, build_id_token, issuer, load_member, member_claims, subject_of, username_of,
)
from shared.infrastructure.csrf import csrf_exempt
from shared.infrastructure.db import get_session
from shared.models import OAuthClient, OAuthConsent

bp = Blueprint("oauth", __name__)
log = logging.getLogger(__name__)

# Parameters that must not appear twice (RFC 6749, section 3.1).
SINGLE_PARAMETERS = (
    "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "prompt", "max_age",
)
# A max_age above ten years is taken for a mistake and rejected as invalid.
MAX_AGE_LIMIT_SECONDS = 10 * 365 * 24 * 3600
# Session key: authorization requests sent to sign in again, by fingerprint, with when they were sent.
REAUTHENTICATION_KEY = "oidc_reauthentication"
MAX_PENDING_REAUTHENTICATIONS = 5
SCOPE_DESCRIPTIONS = {
    "openid": "Confirm who you are (your Rose Ash identity)",
    "profile": "See your name, username and profile page",
    "email": "See your email address",
}


def _settings():
    return current_app.extensions["settings"]


def _sessionmaker():
    return current_app.extensions["sessionmaker"]


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _oauth_error(error: OAuthError) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="federation"'} if error.status == 401 else None
    return _json(error.as_dict(), error.status, headers)


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))



@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
async def metadata():
    base = issuer(_settings())
    return jsonify({
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "jwks_uri": f"{base}/oauth/jwks",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "end_session_endpoint": f"{base}/oauth/logout",
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "azp",
            "name", "preferred_username", "profile", "email", "email_verified",
        ],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    })


@bp.get("/oauth/jwks")
async def jwks():
    response = jsonify(await key_store().jwks())
    response.headers["Cache-Control"] = f"public, max-age={KEY_RELOAD_SECONDS}"
    return response



class AuthorizationRequest:
    """A validated authorization request; errors found after the redirect_uri is trusted go back to the client."""

    def __init__(self, client: OAuthClient, params: MultiDict) -> None:
        self.client = client
        self.redirect_uri: str = params["redirect_uri"]
        self.state = params.get("state")
        self.scope = ""
        self.nonce = params.get("nonce") or None
        self.code_challenge = params.get("code_challenge") or None
        self.prompt = set((params.get("prompt") or "").split())
        self.max_age: int | None = None
        self.params = params

    def validate(self) -> None:
        params = self.params
        if params.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "only response_type=code is supported")
        for name in SINGLE_PARAMETERS:
            if len(params.getlist(name)) > 1:
                raise invalid_request(f"the parameter {name} appears more than once")
        scopes = list(dict.fromkeys((params.get("scope") or "").split()))
        if not scopes:
            raise OAuthError("invalid_scope", "scope is missing; ask for openid, and profile or email if needed")
        unknown = [scope for scope in scopes if scope not in SUPPORTED_SCOPES]
        if unknown:
            raise OAuthError("invalid_scope", f"unknown scope {' '.join(unknown)}; supported: {' '.join(SUPPORTED_SCOPES)}")
        self.scope = " ".join(scopes)
        method = params.get("code_challenge_method")
        if self.code_challenge is None:
            if method:
                raise invalid_request("code_challenge_method was sent without a code_challenge")
            if self.client.is_public:
                raise invalid_request("this client is public and must use PKCE: send code_challenge with S256")
        else:
            if method != "S256":
                raise invalid_request("code_challenge_method must be S256; the plain method is not supported")
            if not grants.S256_CHALLENGE.match(self.code_challenge):
                raise invalid_request("code_challenge must be the 43-character base64url SHA-256 of the verifier")
        if "none" in self.prompt and len(self.prompt) > 1:
            raise invalid_request("prompt=none cannot be combined with other prompt values")
        max_age = params.get("max_age")
        if max_age is not None:
            if not max_age.isascii() or not max_age.isdigit() or int(max_age) > MAX_AGE_LIMIT_SECONDS:
                raise invalid_request(f"max_age must be a whole number of seconds from 0 to {MAX_AGE_LIMIT_SECONDS}")
            self.max_age = int(max_age)

    def fingerprint(self) -> str:
        """Return a digest of the request's parameters, the same when the member comes back from signing in."""
        canonical = urlencode(sorted(self.params.items(multi=True)))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]

    def redirect_with(self, values: dict[str, str]) -> Response:
        values = {**values, "iss": issuer(_settings())}
        if self.state is not None:
            values["state"] = self.state
        return redirect(_with_query(self.redirect_uri, values))

    def redirect_error(self, error: OAuthError) -> Response:
        return self.redirect_with(error.as_dict())

    def hidden_fields(self) -> list[tuple[str, str]]:
        return [(name, self.params[name]) for name in self.params if name in SINGLE_PARAMETERS]


async def _error_page(title: str, message: str, status: int = 400):
    return await render_template("error.html", status=status, title=title, message=message), status


async def _trusted_request(params: MultiDict) -> AuthorizationRequest | tuple:
    """Check client_id and redirect_uri; an error here is shown on our own page, never redirected."""
    if len(params.getlist("client_id")) > 1 or len(params.getlist("redirect_uri")) > 1:
        return await _error_page("Invalid sign-in request", "The sign-in link repeats client_id or redirect_uri.")
    client = await find_client(get_session(), params.get("client_id"))
    if client is None:
        return await _error_page(
            "Unknown application",
            "The application that sent you here is not registered with Rose Ash. Go back and tell its operator.",
        )
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or redirect_uri not in client.redirect_uris:
        log.warning("authorization request of client %s with unregistered redirect_uri %r", client.client_id, redirect_uri)
        return await _error_page(
            "Invalid sign-in request",
            f"The address {client.name} asked us to send you back to is not registered for it, "
            "so we did not send you there. Tell the application's operator.",
        )
    return AuthorizationRequest(client, params)


async def _issue_code_redirect(auth: AuthorizationRequest, member_id: int) -> Response:
    code = await grants.issue_code(
        get_session(), auth.client, member_id, auth.redirect_uri, auth.scope, auth.nonce, auth.code_challenge,
        session.get("oidc_sid"),
        datetime.fromtimestamp(float(session.get("auth_time") or time.time()), timezone.utc),
    )
    return auth.redirect_with({"code": code})


async def _consent_covers(member_id: int, client: OAuthClient, scope: str) -> bool:
    consent = await get_session().scalar(
        select(OAuthConsent).where(OAuthConsent.member_id == member_id, OAuthConsent.client_pk == client.id)
    )
    return consent is not None and set(scope.split()) <= set(consent.scope.split())


def _needs_new_sign_in(auth: AuthorizationRequest) -> bool:
    """Check prompt=login and max_age against the session's auth_time.

    Either one is met once the member has signed in after this request sent
    them to sign in, so the flow goes on even with max_age=0.
    """
    auth_time = float(session.get("auth_time") or 0)
    too_old = auth.max_age is not None and time.time() - auth_time > auth.max_age
    if "login" not in auth.prompt and not too_old:
        return False
    pending = dict(session.get(REAUTHENTICATION_KEY) or {})
    sent_at = pending.pop(auth.fingerprint(), None)
    if sent_at is None or auth_time < sent_at:
        return True
    session[REAUTHENTICATION_KEY] = pending
    return False


def _send_to_sign_in(auth: AuthorizationRequest) -> Response:
    if "login" in auth.prompt or auth.max_age is not None:
        pending = dict(session.get(REAUTHENTICATION_KEY) or {})
        while len(pending) >= MAX_PENDING_REAUTHENTICATIONS:
            pending.pop(next(iter(pending)))
        pending[auth.fingerprint()] = time.time()
        session[REAUTHENTICATION_KEY] = pending
    return redirect("/login?" + urlencode({"next": request.full_path}))


@bp.get("/oauth/authorize")
async def authorize():
    auth = await _trusted_request(request.args)
    if not isinstance(auth, AuthorizationRequest):
        return auth
    try:
        auth.validate()
    except OAuthError as error:
        return auth.redirect_error(error)

    member_id = signed_in_member_id()
    if member_id is None:
        if "none" in auth.prompt:
            return auth.redirect_error(OAuthError("login_required", "the member is not signed in at federation"))
        return _send_to_sign_in(auth)
    if _needs_new_sign_in(auth):
        if "none" in auth.prompt:
            return auth.redirect_error(OAuthError("login_required", "max_age has passed since the member signed in"))
        return _send_to_sign_in(auth)
    if auth.client.is_first_party:
        return await _issue_code_redirect(auth, member_id)
    if "consent" not in auth.prompt and await _consent_covers(member_id, auth.client, auth.scope):
        return await _issue_code_redirect(auth, member_id)
    if "none" in auth.prompt:
        return auth.redirect_error(OAuthError("consent_required", "the member has not approved this client yet"))
    return await render_template(
        "federation/consent.html", client=auth.client, fields=auth.hidden_fields(),
        scopes=[SCOPE_DESCRIPTIONS[scope] for scope in auth.scope.split()],
    )


@bp.post("/oauth/authorize")
async def authorize_decision():
    form = await request.form
    auth = await _trusted_request(form)
    if not isinstance(auth, AuthorizationRequest):
        return auth
    try:
        auth.validate()
    except OAuthError as error:
        return auth.redirect_error(error)
    member_id = signed_in_member_id()
    if member_id is None:
        return redirect("/login?" + urlencode({"next": "/oauth/authorize?" + urlencode(auth.hidden_fields())}))
    if form.get("decision") != "allow":
        return auth.redirect_error(OAuthError("access_denied", "the member did not allow access"))

    db = get_session()
    consent = await db.scalar(
        select(OAuthConsent).where(OAuthConsent.member_id == member_id, OAuthConsent.client_pk == auth.client.id)
    )
    if consent is None:
        db.add(OAuthConsent(member_id=member_id, client_pk=auth.client.id, scope=auth.scope))
    else:
        consent.scope = " ".join(sorted(set(consent.scope.split()) | set(auth.scope.split())))
    return await _issue_code_redirect(auth, member_id)



async def _token_response(client: OAuthClient, grant: grants.Grant) -> Response:
    db = get_session()
    issued = await grants.issue_tokens(db, client, grant)
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "refresh_token": issued.refresh_token,
        "scope": grant.scope,
    }
    if "openid" in grant.scope.split():
        member = await load_member(db, grant.member_id)
        if member is None:
            raise grants.invalid_grant("the member of this grant no longer exists")
        body["id_token"] = await build_id_token(
            key_store(), _settings(), client, member, grant.scope, grant.auth_time.timestamp(), grant.nonce,
            grant.session_sid,
        )
    return _json(body)


@bp.post("/oauth/token")
@csrf_exempt
async def token():
    form = await request.form
    db = get_session()
    try:
        client = await authenticate_client(db, request.headers, form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            if not form.get("code"):
                raise invalid_request("code is missing")
            grant = await grants.exchange_code(
                db, _sessionmaker(), client, form["code"], form.get("redirect_uri"), form.get("code_verifier")
            )
        elif grant_type == "refresh_token":
            if not form.get("refresh_token"):
                raise invalid_request("refresh_token is missing")
            grant = await grants.rotate_refresh_token(
                db, _sessionmaker(), client, form["refresh_token"], form.get("scope")
            )
        elif not grant_type:
            raise invalid_request("grant_type is missing")
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        return await _token_response(client, grant)
    except OAuthError as error:
        return _oauth_error(error)


@bp.post("/oauth/revoke")
@csrf_exempt
async def revoke():
    form = await request.form
    db = get_session()
    try:
        client = await authenticate_client(db, request.headers, form)
        if not form.get("token"):
            raise invalid_request("token is missing")
    except OAuthError as error:
        return _oauth_error(error)
    await grants.revoke_token(db, client, form["token"])
    return _json({})


@bp.post("/oauth/introspect")
@csrf_exempt
async def introspect():
    form = await request.form
    db = get_session()
    try:
        client = await authenticate_client(db, request.headers, form, public_allowed=False)
        if not form.get("token"):
            raise invalid_request("token is missing")
    except OAuthError as error:
        return _oauth_error(error)
    found = await grants.find_token(db, form["token"])
    # Our own apps act as resource servers for any token; a third party may only inspect its own.
    if found is None or not grants.is_active(found) or not (client.is_first_party or found.client_pk == client.id):
        return _json({"active": False})
    member = await load_member(db, found.member_id)
    owner = await db.get(OAuthClient, found.client_pk)
    if member is None or owner is None:
        return _json({"active": False})
    return _json({
        "active": True,
        "scope": found.scope,
        "client_id": owner.client_id,
        "username": member.username,
        "token_type": "Bearer" if found.token_type == "access" else "refresh_token",
        "exp": int(found.expires_at.timestamp()),
        "iat": int(found.created_at.timestamp()),
        "sub": subject_of(_settings(), member.username),
        "aud": owner.client_id,
        "iss": issuer(_settings()),
    })


def _bearer_error(description: str) -> Response:
    header = f'Bearer error="invalid_token", error_description="{description}"'
    return _json({"error": "invalid_token", "error_description": description}, 401, {"WWW-Authenticate": header})


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
@csrf_exempt
async def userinfo():
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        response = _json({"error": "invalid_request", "error_description": "send the access token as a Bearer token"}, 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="federation"'
        return response
    db = get_session()
    found = await grants.find_token(db, value.strip())
    if found is None or found.token_type != "access" or not grants.is_active(found):
        return _bearer_error("the access token is invalid, expired or revoked")
    if "openid" not in found.scope.split():
        return _json({"error": "insufficient_scope", "error_description": "userinfo needs the openid scope"}, 403)
    member = await load_member(db, found.member_id)
    if member is None:
        return _bearer_error("the member of this token no longer exists")
    return _json(member_claims(_settings(), member, found.scope))



async def _hinted_subject(hint: str | None) -> tuple[str | None, str | None]:
    """Return the (sub, aud) of an id_token we issued; an expired one still counts, as logout allows it."""
    if not hint:
        return None, None
    try:
        claims = await key_store().verify(hint)
    except (JoseError, ValueError):
        return None, None
    if claims.get("iss") != issuer(_settings()):
        return None, None
    audience = claims.get("aud")
    if isinstance(audience, list):
        audience = audience[0] if len(audience) == 1 else None
    return claims.get("sub"), audience


async def _logout(params: MultiDict, confirmed: bool):
    sub, audience = await _hinted_subject(params.get("id_token_hint"))
    client_id = params.get("client_id") or audience
    if params.get("client_id") and audience and params["client_id"] != audience:
        return await _error_page("Invalid sign-out request", "client_id and id_token_hint name different applications.")
    target = params.get("post_logout_redirect_uri")
    if target:
        client = await find_client(get_session(), client_id)
        if client is None or target not in client.post_logout_redirect_uris:
            return await _error_page(
                "Invalid sign-out request",
                "The address to return to after signing out is not registered for this application.",
            )

    member_username = session.get("member_username")
    hint_matches = sub is not None and member_username is not None and username_of(_settings(), sub) == member_username
    if member_username and not (confirmed or hint_matches):
        fields = [(name, params[name]) for name in ("id_token_hint", "post_logout_redirect_uri", "client_id", "state") if params.get(name)]
        return await render_template("federation/logout_confirm.html", fields=fields)
    await end_member_session()
    if target:
        return redirect(_with_query(target, {"state": params["state"]} if params.get("state") else {}))
    return await render_template("federation/signed_out.html")


@bp.get("/oauth/logout")
async def end_session():
    return await _logout(request.args, confirmed=False)


@bp.post("/oauth/logout")
async def end_session_confirmed():
    return await _logout(await request.form, confirmed=True)
