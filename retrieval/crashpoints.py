"""Named moments where a crash-safety test makes a real server process die, as a power cut would.

A test starts ``sift serve`` with ``SIFT_CRASH_AT`` set to one of ``POINTS``; when the process
reaches that point it kills itself with SIGKILL (no cleanup, no flush, no ``finally``). The test
then starts the server again and checks that nothing is lost or half-written. Unset, as it is
outside those tests, a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "SIFT_CRASH_AT"
POINTS = {
    "index.vectors_flushed": "a write's vectors are on disk, its catalog rows not yet committed",
    "rebuild.copy_optimized": "an index rebuild has optimized its copy; queries still read the old shard",
    "rebuild.state_saved": "the rebuilt shard is recorded as live; the old one is not yet closed or removed",
}


def crash_point(name: str) -> None:
    """Die at once with SIGKILL if ``SIFT_CRASH_AT`` names this point."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
