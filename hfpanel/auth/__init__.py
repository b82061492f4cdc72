"""Sign-in and access for the pages and the API together (the ``auth:`` section of site.yaml).

``settings.py`` reads the section (mode, cookie secret, users file, OIDC provider, X.509 proxies,
access rules), ``identity.py`` finds who a request is (a signed session cookie, a bearer token, a
DN forwarded by a trusted proxy), ``access.py`` decides which categories and modules they see,
``passwords.py`` hashes passwords (scrypt, stdlib), ``provider.py`` is the sign-in of the pages
(a bokeh ``AuthProvider`` with the login and logout handlers), ``oidc.py`` the OpenID Connect code
flow, ``headers.py`` the security headers of every answer.
"""
