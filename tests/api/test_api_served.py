"""``hfpanel serve`` answers the API on the pages' own port, beside the pages."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.slow


def test_the_api_is_served_beside_the_pages(server):
    page = requests.get(server, timeout=60)
    assert page.status_code == 200 and "<html" in page.text.lower()
    status = requests.get(f"{server}api/v1/status", timeout=60)
    assert status.status_code == 200 and status.json()["level"] == "critical"
    missing = requests.get(f"{server}api/v1/nothing/here", timeout=60)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
    posted = requests.post(f"{server}api/v1/status", timeout=60)
    assert posted.status_code == 405 and "not allowed" in posted.json()["error"]["message"]
