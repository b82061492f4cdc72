"""``/api/v1``: the site's status, history, detail, runs, metrics and transfer statistics as JSON
or CSV, on the same server and port as the Panel pages (``hfpanel serve``).

``routes.py`` is the one table of routes (the server, the OpenAPI document and the tests read it),
``params.py`` reads parameters, ``render.py`` writes JSON/CSV and the page cursor, ``openapi.py``
builds the document, ``server.py`` holds the tornado handlers (caching, errors, headers).
"""

from .server import patterns

__all__ = ["patterns"]
