"""The pages' sign-in: a bokeh ``AuthProvider`` over the one ``Gate``, with its login and logout
handlers (a password form for ``basic``, the OpenID Connect code flow for ``oidc``; ``x509``
needs no form: the proxy verified the certificate).

The login form carries tornado's XSRF token (the server runs with ``xsrf_cookies``), a sign-in
is a signed, HttpOnly, SameSite=Lax cookie, and ``next`` only ever leads to a path of this site.
"""

from __future__ import annotations

import html
import logging
import threading
import time

from bokeh.server.auth_provider import AuthProvider

from .identity import COOKIE, Identity, set_session
from .oidc import oidc_login
from .pages import LOGIN, LOGOUT, Page, safe_next
from .passwords import read_users, verify

log = logging.getLogger("hfpanel.auth")
#: failed password attempts allowed per client address per minute
ATTEMPTS_PER_MINUTE = 10


class _Attempts:
    def __init__(self):
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def too_many(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._seen.get(address, []) if now - t < 60]
            self._seen[address] = recent
            return len(recent) >= ATTEMPTS_PER_MINUTE

    def failed(self, address: str) -> None:
        with self._lock:
            self._seen.setdefault(address, []).append(time.monotonic())


class PasswordLogin(Page):
    """basic: a name and password checked against the users file (scrypt hashes)."""

    attempts = None

    def _form(self, problem: str = "", status: int = 200) -> None:
        note = f'<p class="problem">{html.escape(problem)}</p>' if problem else ""
        target = html.escape(safe_next(self.get_argument("next", "/")), quote=True)
        self.page(
            f'{note}<form method="post" action="{LOGIN}?next={target}">{self.xsrf_form_html()}'
            '<label for="u">Name</label><input id="u" name="username" autocomplete="username" autofocus>'
            '<label for="p">Password</label><input id="p" name="password" type="password" '
            'autocomplete="current-password"><button type="submit">Sign in</button></form>',
            status,
        )

    def get(self) -> None:
        self._form()

    def post(self) -> None:
        address = self.request.remote_ip or ""
        if self.attempts.too_many(address):
            self._form("Too many attempts: wait a minute.", 429)
            return
        name, password = self.get_body_argument("username", ""), self.get_body_argument("password", "")
        users = read_users(self.gate.settings.users_file)
        user = users.get(name)
        if user is None or not verify(password, user["password"]):
            self.attempts.failed(address)
            log.info("sign-in refused for %r from %s", name[:64], address)
            self._form("Wrong name or password.", 401)
            return
        identity = Identity(name, tuple(user.get("groups") or ()), "session")
        set_session(self, self.gate.secret, identity, self.gate.settings.session_hours)
        log.info("%s signed in from %s", name, address)
        self.redirect(safe_next(self.get_argument("next", "/")))


class CertificateLogin(Page):
    """x509: nothing to type; say what is missing."""

    def get(self) -> None:
        self.page(
            "<p>This dashboard admits a verified client certificate (X.509). Your browser presented none, "
            "or not through the site's proxy.</p>",
            401,
        )


class Logout(Page):
    def get(self) -> None:
        self.clear_cookie(COOKIE, path="/")
        self.redirect(LOGIN)


class HfpanelAuth(AuthProvider):
    """Bokeh's hooks over the gate: who the user is, and where to sign in."""

    def __init__(self, gate, title: str = "hfpanel"):
        self.gate = gate
        attributes = {"gate": gate, "title": title}
        if gate.settings.mode == "basic":
            self._login = type("Login", (PasswordLogin,), {**attributes, "attempts": _Attempts()})
        elif gate.settings.mode == "oidc":
            self._login = oidc_login(gate, attributes)
        else:
            self._login = type("Login", (CertificateLogin,), attributes)
        self._logout = type("Logout", (Logout,), attributes)
        super().__init__()

    @property
    def get_user(self):
        def user(handler):
            identity = self.gate.identify(handler)
            return None if identity is None else identity.name

        return user

    @property
    def login_url(self):
        return LOGIN

    @property
    def login_handler(self):
        return self._login

    @property
    def logout_url(self):
        return LOGOUT

    @property
    def logout_handler(self):
        return self._logout
