"""Helpers of the tests that feed tinygan hostile files: damaged bytes, and a bound on the memory a read may take."""
import contextlib
import tracemalloc

from hypothesis import strategies as st


@contextlib.contextmanager
def peak_memory(limit):
    """Fail unless the memory Python and NumPy allocate inside the block peaks below `limit` bytes."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak {peak / 2**20:.1f} MiB, limit {limit / 2**20:.1f} MiB"


def damaged(valid, data, kind):
    """`valid` bytes cut short ('truncate'), with one byte changed ('flip'), or replaced by noise ('random')."""
    if kind == "truncate":
        return valid[:data.draw(st.integers(0, len(valid) - 1))]
    if kind == "flip":
        position = data.draw(st.integers(0, len(valid) - 1))
        return valid[:position] + bytes([valid[position] ^ data.draw(st.integers(1, 255))]) + valid[position + 1:]
    return data.draw(st.binary(max_size=512))
