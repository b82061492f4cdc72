"""The sign-in pages' common ground: their paths, the safe ``next`` after signing in, and the base
handler with the headers every such page sends. Shared by the password form (``provider``) and the
OpenID Connect flow (``oidc``), so neither imports the other's module to get them."""

from __future__ import annotations

import html

import tornado.web

LOGIN, LOGOUT = "/login", "/logout"
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site, never another site (``//evil``, ``\\evil``)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return "/"
    return value


FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport"
content="width=device-width, initial-scale=1"><title>Sign in — {title}</title><style>
body{{font-family:system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.4rem;font-size:1rem}}
button{{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}}.problem{{color:#b00020}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


class Page(tornado.web.RequestHandler):
    gate = None
    title = "hfpanel"

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", PAGE_CSP)
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cache-Control", "no-store")

    def page(self, body: str, status: int = 200) -> None:
        self.set_status(status)
        self.finish(FORM.format(title=html.escape(self.title), body=body))
