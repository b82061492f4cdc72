"""A real OpenID Connect provider for the sign-in tests, built with authlib's server (Flask),
served by werkzeug on 127.0.0.1: discovery, an authorization endpoint with its own login form,
the token endpoint (authorization code + PKCE, client_secret_basic/post), JWKS, RS256 ID tokens
with a ``groups`` claim. Users: ``alice`` (groups storage, transfers) and ``bob`` (none), password
``<name>-pw``; client ``hfpanel`` / ``hfpanel-secret``.

    with oidc_provider(redirect_uris=[...]) as provider:
        provider.issuer  # http://127.0.0.1:PORT
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import threading
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from browser_support import free_port
from flask import Flask, request
from joserfc.jwk import RSAKey
from markupsafe import escape
from werkzeug.serving import make_server

USERS = {"alice": ("alice-pw", ["storage", "transfers"]), "bob": ("bob-pw", [])}
CLIENT_ID, CLIENT_SECRET = "hfpanel", "hfpanel-secret"


@dataclasses.dataclass
class Client(ClientMixin):
    redirect_uris: list

    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in scope.split() if s in ("openid", "profile", "email", "groups"))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, CLIENT_SECRET)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclasses.dataclass
class Code:
    code: str
    user: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class Provider:
    def __init__(self, redirect_uris):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key"}, private=True)
        self.client = Client(list(redirect_uris))
        self.codes: dict[str, Code] = {}
        self.logins: list[str] = []
        self.app = self._app()

    def _app(self) -> Flask:
        app = Flask("oidc-test-provider")
        provider = self

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, req):
                provider.codes[code] = Code(
                    code,
                    req.user,
                    req.payload.redirect_uri,
                    req.payload.scope,
                    req.payload.data.get("nonce"),
                    req.payload.data.get("code_challenge"),
                    req.payload.data.get("code_challenge_method"),
                    int(time.time()),
                )

            def query_authorization_code(self, code, client):
                return provider.codes.get(code)

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class IdToken(OpenIDCode):
            def resolve_client_private_key(self, client):
                return provider.key

            def get_client_claims(self, client):
                return {"iss": provider.issuer, "aud": [CLIENT_ID], "exp": int(time.time()) + 600}

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": "test-key"}

            def exists_nonce(self, nonce, req):
                return any(c.nonce == nonce for c in provider.codes.values())

            def generate_user_info(self, user, scope):
                return UserInfo(sub=f"sub-{user}", preferred_username=user, groups=USERS[user][1])

        server = AuthorizationServer(app, query_client=lambda cid: self.client if cid == CLIENT_ID else None,
                                     save_token=lambda token, req: None)  # fmt: skip
        server.register_grant(CodeGrant, [IdToken(require_nonce=True),
                                          CodeChallenge(required=True)])  # fmt: skip

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/favicon.ico")
        def favicon():
            return "", 204

        @app.get("/jwks")
        def jwks():
            return {"keys": [self.key.as_dict(private=False)]}

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            if request.method == "GET":
                hidden = "".join(
                    f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in request.args.items()
                )
                return (
                    f'<form method="post" action="/authorize">{hidden}<label>Provider user <input name="user" id="user"></label>'
                    '<label>Password <input name="pw" id="pw" type="password"></label>'
                    '<button type="submit" id="go">Sign in at the provider</button></form>'
                )
            user = request.form.get("user", "")
            if user not in USERS or request.form.get("pw") != USERS[user][0]:
                return "wrong user or password", 401
            self.logins.append(user)
            return server.create_authorization_response(grant_user=user)

        @app.post("/token")
        def token():
            return server.create_token_response()

        return app


@contextlib.contextmanager
def oidc_provider(redirect_uris):
    provider = Provider(redirect_uris)
    httpd = make_server("127.0.0.1", provider.port, provider.app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True, name="oidc-provider")
    thread.start()
    try:
        yield provider
    finally:
        httpd.shutdown()
        thread.join(10)
