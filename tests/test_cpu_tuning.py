"""tinygan/_cpu.py: the OpenBLAS kernel choice and malloc's kept memory, applied when tinygan is imported."""
import os
import subprocess
import sys

from tinygan import _cpu

AVX512 = set(_cpu.AVX512_FLAGS) | {"avx2", "fma"}


def test_avx512_cpu_gets_the_avx512_kernels(monkeypatch):
    monkeypatch.setattr(_cpu, "cpu_flags", lambda: frozenset(AVX512))
    monkeypatch.delitem(sys.modules, "numpy")          # as if NumPy were not loaded yet; restored after
    environ = {}
    assert _cpu.choose_openblas_kernels(environ)
    assert environ == {"OPENBLAS_CORETYPE": "SkylakeX"}


def test_cpu_without_avx512_keeps_openblas_choice(monkeypatch):
    monkeypatch.setattr(_cpu, "cpu_flags", lambda: frozenset({"avx2", "fma", "avx512f"}))  # avx512bw etc. missing
    monkeypatch.delitem(sys.modules, "numpy")
    environ = {}
    assert not _cpu.choose_openblas_kernels(environ)
    assert environ == {}


def test_user_choice_and_loaded_numpy_are_left_alone(monkeypatch):
    monkeypatch.setattr(_cpu, "cpu_flags", lambda: frozenset(AVX512))
    environ = {"OPENBLAS_CORETYPE": "Haswell"}
    assert not _cpu.choose_openblas_kernels(environ)
    assert environ == {"OPENBLAS_CORETYPE": "Haswell"}
    assert "numpy" in sys.modules
    assert not _cpu.choose_openblas_kernels({})        # too late: OpenBLAS read its settings already


def _fresh_import(env_changes):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "TINYGAN_CPU_TUNING")}
    env.update(env_changes)
    code = ("import os, tinygan, numpy as np; a = np.arange(12.0).reshape(3, 4); "
            "assert (a @ a.T)[1, 2] == 4 * 8 + 5 * 9 + 6 * 10 + 7 * 11; "
            "print(os.environ.get('OPENBLAS_CORETYPE'), tinygan.CPU_TUNING['keep_freed_memory'])")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_import_applies_the_settings_and_the_switch_turns_them_off():
    coretype, kept = _fresh_import({})
    assert coretype == (_cpu.openblas_coretype() or "None")
    if sys.platform.startswith("linux") and os.path.exists("/lib/x86_64-linux-gnu/libc.so.6"):
        assert kept == "True"
    assert _fresh_import({"TINYGAN_CPU_TUNING": "0"}) == ["None", "False"]

