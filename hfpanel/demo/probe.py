"""A Nagios-style probe command for the demo site: ``python -m hfpanel.demo.probe URL``.

Fetches ``URL`` (a simulator ``/probe/<name>`` endpoint answering ``{"status": 0..3, "message": ...}``),
prints ``OK - message`` (or ``WARNING``, ``CRITICAL``, ``UNKNOWN``) and exits with the Nagios code.
Anything that goes wrong (connection refused, timeout, HTTP error, bad JSON) is ``UNKNOWN``, exit 3.
Standard library only.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

LABELS = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
TIMEOUT = 5.0


def check(url: str, timeout: float = TIMEOUT) -> tuple[int, str]:
    """(Nagios code, message) for the probe result at ``url``."""
    if not url.startswith(("http://", "https://")):
        return 3, f"not an http(s) URL: {url}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            document = json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return 3, f"HTTP {error.code} {error.reason} from {url}"
    except urllib.error.URLError as error:
        return 3, f"cannot reach {url}: {error.reason}"
    except (TimeoutError, OSError) as error:
        return 3, f"cannot reach {url}: {error}"
    except ValueError as error:
        return 3, f"invalid probe answer from {url}: {error}"
    status = document.get("status") if isinstance(document, dict) else None
    if not isinstance(status, int) or isinstance(status, bool) or status not in range(4):
        return 3, f"invalid probe status {status!r} from {url}"
    return status, str(document.get("message") or "").replace("\n", " ")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("UNKNOWN - usage: python -m hfpanel.demo.probe URL")
        return 3
    code, message = check(args[0])
    print(f"{LABELS[code]} - {message}")
    return code


if __name__ == "__main__":
    sys.exit(main())
