"""System install for the KG task: Debian's Virtuoso (the test graph's server, and the server a downloaded Freebase
database folder runs on). With HARNESS_FREEBASE_DIR or HARNESS_SPARQL_URL set, setup also checks that Freebase
answers one known query, so that a broken download or a wrong URL shows now rather than at the first episode."""
from __future__ import annotations

import os


def install() -> None:
    from harness.services.virtuoso import FreebaseVirtuoso, Virtuoso
    Virtuoso.install()
    if os.environ.get("HARNESS_FREEBASE_DIR", "").strip() or os.environ.get("HARNESS_SPARQL_URL", "").strip():
        FreebaseVirtuoso.cleanup_stale()
        service = FreebaseVirtuoso()
        try:
            info = service.start()
            where = f" (Virtuoso on {info['dir']})" if info.get("dir") else ""
            print(f"kg: Freebase answers at {info['url']}{where}")
        finally:
            service.stop()
