"""Security headers on every answer of the served dashboard (pages, assets, API), added as a
tornado output transform so that no handler — Panel's, bokeh's or ours — can forget them."""

from __future__ import annotations

import tornado.web

#: Panel's pages need inline scripts and eval (bokeh), so the CSP's value is in what it forbids:
#: being framed (clickjacking), plugins, and a <base> that redirects relative URLs
PAGE_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders(tornado.web.OutputTransform):
    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        for name, value in PAGE_HEADERS.items():
            if name not in headers:
                headers[name] = value
        return status_code, headers, chunk
