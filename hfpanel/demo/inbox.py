"""The demo's notification receiver: ``python -m hfpanel.demo.inbox DIR`` appends the message it is
given (``$HFPANEL_MESSAGE_FILE``, as every ``command`` receiver gets it) to ``DIR/messages.jsonl`` —
a mailbox on disk, so the demo's notifications are really delivered without a mail server.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or "HFPANEL_MESSAGE_FILE" not in os.environ:
        print("usage: HFPANEL_MESSAGE_FILE=… python -m hfpanel.demo.inbox DIR", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    message = json.loads(Path(os.environ["HFPANEL_MESSAGE_FILE"]).read_text())
    line = {
        "key": os.environ.get("HFPANEL_MESSAGE_ID", ""),
        "kind": os.environ.get("HFPANEL_KIND", ""),
        "subject": message.get("subject", ""),
        "status": message.get("status", ""),
        "incident": message.get("incidentId", ""),
        "run": message.get("runId", ""),
    }
    with open(folder / "messages.jsonl", "a") as out:
        out.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
