"""Host → site for transfer statistics: exact map, patterns, CRIC feed, domain fallback."""

import json

import pytest

from hfpanel.transfers.sites import SiteResolver, bare_host, domain_of, load_cric

ATLAS_CRIC = {
    "CERN-PROD_DATADISK": {
        "name": "CERN-PROD_DATADISK",
        "rc_site": "CERN-PROD",
        "type": "DATADISK",
        "state": "ACTIVE",
        "se": "davs://eosatlas.cern.ch:443",
        "endpoint": "/eos/atlas/",
    },
    "BNL-OSG2_DATADISK": {
        "name": "BNL-OSG2_DATADISK",
        "rc_site": "BNL-ATLAS",
        "type": "DATADISK",
        "state": "ACTIVE",
        "se": "davs://dcdoor.sdcc.bnl.gov:443",
        "endpoint": "/pnfs/",
    },
}


@pytest.mark.parametrize(
    "host, shown",
    [
        ("eoscms.cern.ch", "cern.ch"),
        ("se01.gla.scotgrid.ac.uk", "scotgrid.ac.uk"),
        ("xrootd.gla.ac.uk", "gla.ac.uk"),
        ("davs://dcache-door.desy.de:2880/pnfs/x", "desy.de"),
        ("137.138.1.2", "137.138.1.2"),
        ("localhost", "localhost"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_an_unresolved_host_is_shown_as_its_domain(host, shown):
    assert domain_of(host) == shown
    assert SiteResolver().label(host) == shown


def test_exact_map_beats_patterns_and_ignores_case_port_and_scheme():
    resolver = SiteResolver(
        hosts={"eoscms.cern.ch": "T2_CH_CERN"}, patterns=[{"pattern": r"\.cern\.ch$", "site": "T0_CH_CERN"}]
    )
    assert resolver.site("EOSCMS.cern.ch") == "T2_CH_CERN"
    assert resolver.site("davs://eoscms.cern.ch:443/eos/cms/file") == "T2_CH_CERN"
    assert resolver.site("castorcms.cern.ch") == "T0_CH_CERN"
    assert bare_host("eoscms.cern.ch:1094") == "eoscms.cern.ch"


def test_patterns_are_tried_in_order():
    resolver = SiteResolver(patterns=[(r"^cmsdcadisk\.fnal\.gov$", "T1_US_FNAL_Disk"), (r"\.fnal\.gov$", "T1_US_FNAL")])
    assert resolver.site("cmsdcadisk.fnal.gov") == "T1_US_FNAL_Disk"
    assert resolver.site("cmseos.fnal.gov") == "T1_US_FNAL"
    assert resolver.site("eoscms.cern.ch") is None


def test_cric_feed_from_a_file_and_from_a_url(tmp_path):
    path = tmp_path / "cric.json"
    path.write_text(json.dumps(ATLAS_CRIC))
    for source in (str(path), path.as_uri(), {"url": path.as_uri()}):
        resolver = SiteResolver.from_config({"cric": source})
        assert resolver.site("eosatlas.cern.ch") == "CERN-PROD"
        # a sibling host of a CRIC host shares its site (hfpanel.topology's domain rule)
        assert resolver.site("other.sdcc.bnl.gov") == "BNL-ATLAS"
        assert resolver.label("se.example.org") == "example.org"
    assert set(load_cric(str(path))["site"]) == {"CERN-PROD", "BNL-ATLAS"}


def test_map_and_patterns_take_precedence_over_cric(tmp_path):
    path = tmp_path / "cric.json"
    path.write_text(json.dumps(ATLAS_CRIC))
    resolver = SiteResolver.from_config({"hosts": {"eosatlas.cern.ch": "MY_CERN"}, "cric": str(path)})
    assert resolver.site("eosatlas.cern.ch") == "MY_CERN"


def test_relation_lists_each_distinct_host_once_with_whether_it_matched():
    resolver = SiteResolver(hosts={"eoscms.cern.ch": "T2_CH_CERN"})
    relation = resolver.relation(["eoscms.cern.ch", "se.unl.edu", "eoscms.cern.ch", None]).to_pylist()
    assert relation == [
        {"host": "eoscms.cern.ch", "site": "T2_CH_CERN", "matched": True},
        {"host": "se.unl.edu", "site": "unl.edu", "matched": False},
    ]
