"""The demo site: a simulated WLCG Tier-2 (``T2_XX_Demo``) for trying hfpanel without grid access.

- :mod:`hfpanel.demo.simulator`: ``Simulator``, a local HTTP server serving time-varying payloads in
  the real formats of SAM/ETF, HammerCloud, dCache, HTCondor, GOCDB, Rucio, CRIC, perfSONAR and more,
  with a schedule of incidents (``Simulator.incidents``);
- :mod:`hfpanel.demo.payloads`: the payload generators (pure, deterministic per seed and time);
- :mod:`hfpanel.demo.site`: ``demo_config()`` / ``write_demo_config()``, the site configuration that
  points the generic collectors at the simulator;
- :mod:`hfpanel.demo.probe`: ``python -m hfpanel.demo.probe URL``, a Nagios-style probe command.
"""
