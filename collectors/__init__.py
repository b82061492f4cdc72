"""Generic collector types, one module each, registered under the ``hfpanel.collectors`` entry points.

A site's first modules rarely need code: most sources already answer with JSON, CSV, an HTML table
or XML, or run as a Nagios-style command. These five collectors cover those cases with the shared
HTTP layer (:mod:`hfpanel.http`) and the shared selection logic (:mod:`hfpanel.tabular`); source-
specific collectors (SAM, dCache, ...) build on the same two modules.

==============  ==========================================================================
``http_json``   JSON over HTTP(S) or ``file://``: rows by JSON path, metrics by path or aggregation
``http_csv``    CSV (any delimiter, comment lines) into rows
``html_table``  one ``<table>`` of an HTML page into rows
``http_xml``    one row per element selected by XPath (attributes + child texts)
``command``     a local command: JSON on stdout, or a Nagios plugin's exit code
==============  ==========================================================================
"""
