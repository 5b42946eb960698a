"""tinygan/_malloc.py: after `import tinygan`, freed arrays stay in the process for the next step."""
import os
import subprocess
import sys

import pytest


def _glibc():
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):   # not a Unix with confstr, or no such name
        return False


# Allocate and touch 24 MB, free it, and report whether the resident set kept it (in MB).
PROBE = """
import tinygan, numpy as np
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before = rss_mb()
block = np.ones(6 << 20, dtype=np.float32)
del block
print(tinygan.KEEPS_FREED_MEMORY, round(rss_mb() - before))
"""


def _probe(**env_changes):
    env = dict(os.environ, **env_changes)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    kept, grown_mb = done.stdout.split()
    return kept == "True", int(grown_mb)


@pytest.mark.skipif(not _glibc(), reason="mallopt is glibc's (Linux)")
def test_freed_arrays_stay_for_reuse_and_the_switch_turns_it_off():
    kept, grown_mb = _probe()
    assert kept and grown_mb >= 20          # the 24 MB block is still resident, ready for the next step
    kept, grown_mb = _probe(TINYGAN_KEEP_MEMORY="0")
    assert not kept and grown_mb < 5        # glibc's default: a block that large goes back to the OS
