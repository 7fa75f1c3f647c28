"""One Apprise notification, in a child process of its own: `python -m catalog.watch.apprise_call`.

Apprise makes its own HTTP calls (with requests), whose timeouts bound each read, not the call,
and which read whole answers into memory. Run here, the parent can stop it at the target's timeout
by killing the process, so no thread goes on reading after a delivery timed out, and the address
space limit below bounds what a hostile answer can cost. The request (URL, title, body) comes as
JSON on stdin, never on the command line, which other users can read; the outcome is one JSON
object on stdout: {"error": null} or {"error": "why"}.
"""

from __future__ import annotations

import json
import resource
import sys

MEMORY_LIMIT = 256 * 1024 * 1024  # bytes of address space: Apprise itself needs about 60 MiB


def notify(url: str, title: str, body: str) -> str | None:
    try:
        import apprise
    except ImportError:
        return "Apprise is not installed: pip install '.[notify]' in catalog's clone (or 'openrouter-free-catalog[notify]' once published)"
    import logging

    logging.getLogger("apprise").setLevel(logging.CRITICAL)  # its log lines may quote the URL's secrets
    sender = apprise.Apprise()
    if not sender.add(url):
        return "Apprise does not understand this URL; check it against the Apprise documentation"
    ok = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN)
    return None if ok else "Apprise reported a failed delivery"


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    request = json.load(sys.stdin)
    answer, sys.stdout = sys.stdout, sys.stderr  # whatever Apprise prints stays out of the answer
    try:
        error = notify(request["url"], request["title"], request["body"])
    except MemoryError:
        error = "the target's answer was too large"
    except Exception as exc:  # the type only: Apprise's messages may quote the URL
        error = f"Apprise failed: {type(exc).__name__}"
    json.dump({"error": error}, answer)


if __name__ == "__main__":
    main()
