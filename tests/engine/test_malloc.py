"""tinygan/runtime/malloc.py: once training turns it on, freed arrays stay in the process for the next step;
`import tinygan` alone changes nothing."""
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
import sys, tinygan, numpy as np
if sys.argv[1] == "keep":
    tinygan.keep_freed_memory()
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before = rss_mb()
block = np.ones(6 << 20, dtype=np.float32)
del block
print(tinygan.keeps_freed_memory(), round(rss_mb() - before))
"""


def _probe(keep, **env_changes):
    env = {k: v for k, v in os.environ.items() if k != "TINYGAN_KEEP_MEMORY"}
    env.update(env_changes)
    done = subprocess.run([sys.executable, "-c", PROBE, "keep" if keep else "import-only"], env=env,
                          capture_output=True, text=True, check=True)
    kept, grown_mb = done.stdout.split()
    return kept == "True", int(grown_mb)


@pytest.mark.skipif(not _glibc(), reason="mallopt is glibc's (Linux)")
def test_freed_arrays_stay_for_reuse_once_training_asks_and_the_switch_turns_it_off():
    kept, grown_mb = _probe(keep=True)
    assert kept and grown_mb >= 20          # the 24 MB block is still resident, ready for the next step
    kept, grown_mb = _probe(keep=True, TINYGAN_KEEP_MEMORY="0")
    assert not kept and grown_mb < 5        # glibc's default: a block that large goes back to the OS


@pytest.mark.skipif(not _glibc(), reason="mallopt is glibc's (Linux)")
def test_import_alone_changes_nothing_unless_the_environment_asks():
    kept, grown_mb = _probe(keep=False)
    assert not kept and grown_mb < 5
    kept, grown_mb = _probe(keep=False, TINYGAN_KEEP_MEMORY="1")
    assert kept and grown_mb >= 20
