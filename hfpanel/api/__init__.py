"""``/api/v1``: the site's status, history, detail, runs, metrics and transfer statistics as JSON
or CSV, and signed pushes of test results, on the same server and port as the Panel pages
(``hfpanel serve``).

``routes.py`` is the one table of routes (the server, the OpenAPI document and the tests read it),
``params.py`` reads parameters, ``render.py`` writes JSON/CSV and the page cursor, ``openapi.py``
builds the document, ``server.py`` holds the tornado handlers (caching, errors, headers),
``push_handler.py`` the push route, ``tokens.py`` the tokens, ``settings.py`` the ``api:`` section.
Import ``hfpanel.api.server.patterns`` for the routes (this package itself imports nothing, so the
configuration can read ``settings`` without a cycle).
"""
