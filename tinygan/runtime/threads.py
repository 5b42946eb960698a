"""How many threads NumPy's matrix products (the BLAS) use, chosen instead of left to luck.

OpenBLAS starts one thread per core, and its threads spin while they wait for work. On a 2-core
machine where another program is busy, two BLAS threads then fight that program for the cores,
and a DCGAN step took 0.8 s instead of 0.2 s with one thread (docs/performance.md). So training
chooses (`--threads auto`, the default):

    cores - busy cores        where /proc/stat, over 0.3 s, says how many cores others keep busy
    1                         for models whose matrix products are too small to gain from more
                              (the 2-D toy GANs: a 256 x 128 product is done before a thread wakes)

The BLAS is found among the libraries this process has loaded and driven through its own
functions (openblas_set_num_threads and friends, with or without NumPy's scipy_ prefix), so no
extra package is needed. Elsewhere (MKL, Accelerate, not Linux) nothing is changed and
`blas_info()` says so.
"""
import ctypes
import os
import time

import numpy  # noqa: F401  (loads the BLAS that _loaded_openblas looks for)

SMALL_PRODUCT_ARCHITECTURES = ("mlp-toy",)   # see the docstring: one thread is fastest for these


def _loaded_openblas():
    """The OpenBLAS library NumPy loaded (ctypes handle, function prefix, suffix), or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        return None
    for path in paths:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                if hasattr(library, f"{prefix}_get_num_threads{suffix}"):
                    return library, prefix, suffix, path
    return None


def _function(found, name, restype=ctypes.c_int):
    library, prefix, suffix, _ = found
    function = getattr(library, f"{prefix}_{name}{suffix}")
    function.restype = restype
    return function


def blas_info():
    """{'library', 'kernel', 'threads', 'path'} of the BLAS in use; 'library' says when it is not OpenBLAS."""
    found = _loaded_openblas()
    if found is None:
        return {"library": "not OpenBLAS (or not found): thread count left to the library", "kernel": None,
                "threads": None, "path": None}
    config = _function(found, "get_config", ctypes.c_char_p)().decode()
    return {"library": config.split("  ")[0], "kernel": _function(found, "get_corename", ctypes.c_char_p)().decode(),
            "threads": _function(found, "get_num_threads")(), "path": found[3]}


def set_blas_threads(count):
    """Make the BLAS use `count` threads; True if it could be set."""
    found = _loaded_openblas()
    if found is None:
        return False
    set_threads = _function(found, "set_num_threads", None)
    set_threads.argtypes = [ctypes.c_int]
    set_threads(int(count))
    return True


def _cpu_times():
    """(busy, total) clock ticks of all cores since boot, from /proc/stat's first line."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]                                   # idle and waiting for I/O
    return sum(ticks) - idle, sum(ticks)


def busy_cores(seconds=0.3):
    """Cores other programs keep busy now: the busy share of all cores over `seconds`, times the cores.

    Measured, not read from the load average: that is a 1-minute mean, still high a minute after a
    program ended (and it counts our own work just done). Where /proc/stat is missing, the load average.
    """
    try:
        busy_before, total_before = _cpu_times()
        time.sleep(seconds)
        busy_after, total_after = _cpu_times()
    except (OSError, ValueError, IndexError):
        try:
            return int(round(os.getloadavg()[0]))
        except OSError:
            return 0
    share = (busy_after - busy_before) / max(1, total_after - total_before)
    return int(round(share * (os.cpu_count() or 1)))


def choose_threads(requested, arch=None, cores=None, busy=None):
    """(threads, why) for a run: `requested` is 'auto' or a positive int given by the user."""
    cores = cores or os.cpu_count() or 1
    if requested != "auto":
        return int(requested), "as asked (--threads)"
    if arch in SMALL_PRODUCT_ARCHITECTURES:
        return 1, f"the {arch} model's matrix products are too small to gain from more than one"
    busy = busy_cores() if busy is None else busy
    free = max(1, cores - busy)
    if busy:
        return free, f"{cores} cores, {busy} busy with other programs: more threads would fight them"
    return cores, f"{cores} cores, none busy"


def parse_threads(text):
    """'auto' or a positive int, for the command line; ValueError with a sentence otherwise."""
    if text == "auto":
        return text
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"--threads must be 'auto' or a whole number of at least 1, got {text!r}")
    return count
