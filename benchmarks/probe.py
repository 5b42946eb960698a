"""The cache probe: how long a 4 MB buffer, just written by one core, takes to read back on that core and on
another one. It tells which of two periods the machine was in while a row of the table was measured.

On the machine this was written on, a 2-core virtual machine (KVM), most of the time (quiet periods) such a
buffer reads back in 0.07-0.10 ms on either core: it is still in the cache. In slow periods, which come and go
within minutes, the same read takes 0.12-0.17 ms on the core that wrote it and 0.20-0.26 ms on the other: the
cache no longer holds it. tinygan's passes that read what they have just written (im2col's slabs, BatchNorm's
and ReLU's passes, the products' outputs) slow down then, and U1 takes 220-235 ms instead of 185-200, while the
products alone and PyTorch's step barely move (docs/performance.md, "The machine's slow periods").

The worker probes before and after each workload's timed steps; the CPU table shows what the probes read.
"""
import os
import statistics
import threading
import time

PROBE_BYTES = 4 << 20


# OpenBLAS's threads spin on their cores for about 0.1 s after each product before they sleep (0.1 s of CPU time
# during a 0.2 s sleep after one product, benchmarks/README.md). A probe in that time shares a core with them and
# reads as a slow period, so it waits this long first.
_SETTLE_S = 0.2


def cache_probe_ms(repeats=15, settle_s=_SETTLE_S):
    """{"same_core": ms, "other_core": ms}: the median time to read (copy out) a 4 MB buffer right after the first
    of this process's cores wrote it, read on that core and on a second one, after settle_s seconds of sleep.

    None where threads cannot be pinned to cores (no os.sched_setaffinity, as on macOS, or pinning refused);
    other_core None with a single core.
    """
    import numpy
    if not hasattr(os, "sched_setaffinity"):
        return {"same_core": None, "other_core": None}
    time.sleep(settle_s)
    cores = sorted(os.sched_getaffinity(0))
    source = numpy.ones(PROBE_BYTES // 4, dtype=numpy.float32)
    written, copy = numpy.empty_like(source), numpy.empty_like(source)

    def write():
        numpy.copyto(written, source)

    def read():
        started = time.perf_counter()
        numpy.copyto(copy, written)
        return time.perf_counter() - started

    readers = {"same_core": cores[0], "other_core": cores[1] if len(cores) > 1 else None}
    timings = {key: [] for key in readers}
    try:
        for _ in range(repeats):
            for key, core in readers.items():
                if core is not None:
                    _on_core(cores[0], write)
                    timings[key].append(_on_core(core, read))
    except OSError:
        return {"same_core": None, "other_core": None}
    return {key: statistics.median(values) * 1e3 if values else None for key, values in timings.items()}


def _on_core(core, work):
    """work() in a new thread pinned to `core` (on Linux, sched_setaffinity(0) pins only the calling thread);
    its result, or the OSError it raised."""
    outcome = {}

    def run():
        try:
            os.sched_setaffinity(0, {core})
            outcome["value"] = work()
        except OSError as error:
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
