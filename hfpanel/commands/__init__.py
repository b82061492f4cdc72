"""Every ``hfpanel`` sub-command but the core ones in ``hfpanel.cli``: one module a wing (events,
reports, api tokens, auth users, ingest, transfers, collectors), each adding its parsers. They sit
above the wings they drive, so a wing never imports the command line."""
