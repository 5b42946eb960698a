"""Keep freed memory for the next training step, instead of giving it back to the OS.

glibc's malloc returns a large freed block to the operating system (munmap, or
trimming the heap), so the next step's arrays of the same size are new pages that
page-fault on their first write. A training step allocates and frees the same
arrays every time (im2col rows of 13 MB in a DCGAN, the activations and their
gradients), and on a virtual machine those faults cost about 1 ms per 10 MB, paid
again every step: more than a quarter of a DCGAN step here (docs/performance.md).

Two malloc settings keep the blocks for reuse, as PyTorch's CUDA caching
allocator does (its CPU allocator is glibc's malloc, with the same faults:
benchmarks/ gives both frameworks this setting): blocks up to 32 MB come from
the heap (not mmap), and the heap is never trimmed. The price: the process
stays at its peak size instead of shrinking between steps, for the whole
process, not only tinygan's arrays.

So it is opt-in: `import tinygan` changes nothing. Training turns it on (the `tinygan`
command and `Run.train` call keep_freed_memory()), as does TINYGAN_KEEP_MEMORY=1 at import;
TINYGAN_KEEP_MEMORY=0 keeps glibc's defaults everywhere. Only glibc (Linux) has mallopt;
elsewhere nothing changes.
"""
import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1        # mallopt's parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
HEAP_UP_TO_BYTES = 32 << 20  # glibc's largest mmap threshold: blocks up to 32 MB come from the reused heap
NEVER_TRIM_BYTES = 1 << 30   # give back the heap's top only when 1 GB of it is free


_state = {"kept": False}


def keep_freed_memory():
    """Tell glibc's malloc to keep freed blocks for reuse (once per process); True if it is in effect."""
    if _state["kept"]:
        return True
    if os.environ.get("TINYGAN_KEEP_MEMORY", "") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):   # not glibc (musl has no mallopt)
        return False
    _state["kept"] = bool(mallopt(M_MMAP_THRESHOLD, HEAP_UP_TO_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, NEVER_TRIM_BYTES))
    return _state["kept"]


def keeps_freed_memory():
    """Whether keep_freed_memory() is in effect in this process."""
    return _state["kept"]


def apply_environment():
    """TINYGAN_KEEP_MEMORY=1 turns the setting on at import."""
    if os.environ.get("TINYGAN_KEEP_MEMORY", "") == "1":
        keep_freed_memory()
