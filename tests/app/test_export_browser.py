"""The post-mortem bundle's page opens in Chromium from the file system: no server, no network,
the strips drawn, the sources' text shown as text."""

from store_factory import HOSTILE

from hfpanel.cli import main


def test_the_bundle_page_works_from_the_file_system(site, page, tmp_path, shots):
    out = tmp_path / "bundle"
    assert (
        main(["export", "--store", str(site.root), "--from", str(site.times[0]), "--to", str(site.times[-1]), str(out)])
        == 0
    )
    fetched = []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file://")
            else (fetched.append(route.request.url), route.abort())
        ),
    )
    page.goto((out / "index.html").as_uri())
    page.locator("canvas").first.wait_for()  # Bokeh drew the strips from its inline JavaScript
    assert page.locator("h1").inner_text() == "TEST-SITE"
    assert page.locator("#overview tbody tr").count() == 5
    assert page.get_by_text(f"node note {HOSTILE}").count() >= 1  # shown as text, never run
    assert page.locator("#m-condor_nodes h4").first.is_visible()
    page.screenshot(path=str(shots / "export-bundle.png"), full_page=True)
    assert fetched == []
