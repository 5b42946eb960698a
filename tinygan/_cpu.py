"""Two settings of the C libraries under NumPy that make tinygan's CPU steps faster.

Applied once, when tinygan is imported (tinygan/__init__.py); TINYGAN_CPU_TUNING=0 turns both off.
benchmarks/results/cpu.md shows what each saves on the machine it was measured on.

1. OpenBLAS's kernels. OpenBLAS picks its matrix-product kernels from the CPU's
   model number. It does not know every new CPU: an AMD Zen 5 under KVM gets the
   AVX2 ("Haswell") kernels, although it runs AVX-512, and its float32 GEMMs then
   take about 1.8x as long as with the AVX-512 ("SkylakeX") ones. OpenBLAS reads
   OPENBLAS_CORETYPE when it loads, i.e. when NumPy is first imported, so this
   works only if tinygan is imported before NumPy (as the `tinygan` command is).

2. glibc's malloc keeps freed memory. By default it gives large freed blocks back
   to the operating system, and every new array of the next step then
   page-faults on its first write: about 1 ms per 10 MB on a virtual machine,
   paid again each step for the im2col rows and the activations. Keeping the
   memory (as PyTorch's caching allocators do) makes the process's resident
   size stay at its peak instead of shrinking between steps.
"""
import ctypes
import ctypes.util
import os
import sys

# The instructions OpenBLAS's SkylakeX kernels use; Linux lists only those the OS has enabled.
AVX512_FLAGS = frozenset({"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"})

M_TRIM_THRESHOLD = -1        # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
KEEP_UP_TO_BYTES = 32 << 20  # glibc's largest mmap threshold: arrays up to 32 MB come from the reused heap


def tuning_enabled():
    return os.environ.get("TINYGAN_CPU_TUNING", "1") != "0"


def cpu_flags():
    """The instruction-set flags of the first CPU in /proc/cpuinfo (an empty set where there is none)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def openblas_coretype():
    """"SkylakeX" (OpenBLAS's AVX-512 kernels) on a CPU with AVX-512, else None (OpenBLAS's own choice)."""
    return "SkylakeX" if AVX512_FLAGS <= cpu_flags() else None


def choose_openblas_kernels(environ=os.environ):
    """Ask OpenBLAS for its AVX-512 kernels on a CPU that has AVX-512; True if this set OPENBLAS_CORETYPE.

    Does nothing when the user chose a core type, or when NumPy (and so OpenBLAS) is already loaded.
    """
    coretype = openblas_coretype()
    if "OPENBLAS_CORETYPE" in environ or "numpy" in sys.modules or coretype is None:
        return False
    environ["OPENBLAS_CORETYPE"] = coretype
    return True


def keep_freed_memory():
    """Tell glibc's malloc to keep freed blocks (up to 32 MB each) for reuse; True if it took the settings."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):   # not glibc (e.g. musl has no mallopt)
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_UP_TO_BYTES)) and bool(mallopt(M_TRIM_THRESHOLD, 1 << 30))


def tune():
    """Apply both settings (unless TINYGAN_CPU_TUNING=0); what was applied, for `tinygan info`."""
    if not tuning_enabled():
        return {"openblas_kernels": False, "keep_freed_memory": False}
    return {"openblas_kernels": choose_openblas_kernels(), "keep_freed_memory": keep_freed_memory()}
