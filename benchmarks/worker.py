"""One framework's benchmark run, alone in its own process; prints one JSON object on stdout.

    python -m benchmarks.worker --framework torch-cpu --workloads W1,O1 --steps 20 --warmup 3 --threads 2

run.py starts one worker per framework, one after the other, with OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to --threads in the worker's environment, so the BLAS
libraries read them when NumPy or PyTorch loads them. Progress goes to stderr.

For each workload: build it (models, optimizers, data), run the warm-up steps (the first one's
losses are recorded), then time each step alone: perf_counter around step() and, on a GPU,
the synchronisation that waits for the queued kernels. On the CPU, before and after the timed steps, the cache
probe (probe.py) records which of the machine's periods they fell in. Memory: the resident set's high-water mark
(Linux: VmHWM, restarted before each workload through /proc/self/clear_refs; elsewhere only the
whole run's ru_maxrss), and on a GPU the peak of the framework's memory pool for each workload.
"""
import argparse
import gc
import importlib
import json
import math
import os
import resource
import statistics
import sys
import time
import traceback

from . import specs
from .probe import cache_probe_ms

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
LIBRARY_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TINYGAN_KEEP_MEMORY")  # they change the speed
MIB = 2 ** 20


def log(message):
    print(message, file=sys.stderr, flush=True)


# -- resident memory -----------------------------------------------------------------------------

def rss_peak_mib():
    """This process's resident set high-water mark in MiB (VmHWM on Linux, ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _ru_maxrss_mib()


def _ru_maxrss_mib():
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / MIB if sys.platform == "darwin" else maxrss / 1024  # bytes on macOS, KiB on Linux


def reset_rss_peak():
    """Restart the high-water mark at the current resident set (Linux); False where that is impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


# -- timing --------------------------------------------------------------------------------------

def losses_of(side, output):
    """The first step's loss values as floats (a GAN step returns two losses, D's and G's)."""
    outputs = output if isinstance(output, tuple) else (output,)
    return [float(side.to_numpy(t)) for t in outputs]


def _cache_probes(gpu):
    """[one cache probe] on the CPU; none for a GPU workload, whose table does not show them (and whose
    device time is scarce: a probe takes about 0.3 s)."""
    return [] if gpu else [cache_probe_ms()]


def time_workload(side, name, args, gpu):
    """Build one workload, warm it up, time args.steps steps; a dict of times (ms) and memory."""
    probes = _cache_probes(gpu)      # which of the machine's periods the steps fall in; before the memory mark
    gc.collect()
    resettable = reset_rss_peak()
    if gpu:
        side.gpu_memory_reset()
    bench = side.build(name, quick=args.quick, seed=args.seed)

    output = bench.step()                          # warm-up step 1: its losses are recorded
    side.sync()
    first_losses = losses_of(side, output) if bench.updates else None
    del output
    for _ in range(args.warmup - 1):
        bench.step()
        side.sync()

    times = []
    for _ in range(args.steps):
        started = time.perf_counter()
        bench.step()
        side.sync()                                # GPU: the step is done when its kernels are
        times.append((time.perf_counter() - started) * 1000)
    rss_peak = rss_peak_mib() if resettable else None
    probes += _cache_probes(gpu)

    result = {"median_ms": statistics.median(times), "min_ms": min(times), "times_ms": times,
              "steps": args.steps, "warmup": args.warmup, "first_losses": first_losses,
              "rss_peak_mib": rss_peak, "cache_probe_ms": probes}
    if first_losses is not None and not all(math.isfinite(v) for v in first_losses):
        result["warning"] = f"non-finite loss in the first step: {first_losses}"
    if gpu:
        result.update({key.replace("_bytes", "_mib"): value / MIB for key, value in side.gpu_memory_peak().items()})
    del bench
    gc.collect()
    return result


def run(framework, names, args):
    """Everything one framework reports, as a JSON-able dict."""
    side_name, device = specs.FRAMEWORKS[framework]
    report = {"framework": framework, "side": side_name, "device": device, "pid": os.getpid(),
              "quick": args.quick, "skipped": None, "workloads": {}}
    if framework in specs.REFERENCE.values():
        os.environ["TINYGAN_KERNELS"] = "reference"      # read by tinygan on first use, after this import
    try:
        side = importlib.import_module(f"benchmarks.{side_name}_workloads")
    except ImportError as error:
        if side_name == "tinygan":
            raise
        report["skipped"] = f"{side_name} does not import ({error})"
        return report
    try:
        side.setup(device, args.threads)
    except specs.Unavailable as error:
        report["skipped"] = str(error)
        return report
    gpu = device == "gpu"
    report["versions"] = side.versions()
    report["threads"] = {"requested": args.threads,
                         "env": {v: os.environ.get(v) for v in THREAD_VARIABLES + LIBRARY_VARIABLES},
                         **side.thread_info()}
    report["memory"] = {"after_import_mib": rss_peak_mib()}

    for name in names:
        log(f"[{framework}] {name} ...")
        try:
            result = time_workload(side, name, args, gpu)
        except Exception as error:  # one broken workload must not lose the others' numbers
            traceback.print_exc()
            result = {"error": f"{type(error).__name__}: {error}"}
            gc.collect()
        report["workloads"][name] = result
        if "error" in result:
            log(f"[{framework}] {name}: FAILED {result['error']}")
        else:
            log(f"[{framework}] {name}: median {result['median_ms']:.2f} ms, min {result['min_ms']:.2f} ms")

    # After the per-workload resets, ru_maxrss/VmHWM hold only the last workload's peak: the run's
    # peak is the largest of all the marks seen.
    marks = [report["memory"]["after_import_mib"], rss_peak_mib()]
    marks += [r["rss_peak_mib"] for r in report["workloads"].values() if r.get("rss_peak_mib") is not None]
    report["memory"]["rss_peak_mib"] = max(marks)
    report["memory"]["ru_maxrss_end_mib"] = _ru_maxrss_mib()
    report["memory"]["per_workload"] = any(r.get("rss_peak_mib") is not None for r in report["workloads"].values())
    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker", description=__doc__.split("\n")[0])
    parser.add_argument("--framework", required=True, choices=sorted(specs.FRAMEWORKS))
    parser.add_argument("--workloads", default=",".join(specs.ORDER), help="comma-separated, run in this order")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per workload")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (at least 1)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="tiny shapes (for tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.warmup = max(1, args.warmup)
    args.steps = max(1, args.steps)
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in specs.WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; expected some of {list(specs.ORDER)}")
    args.names = names
    return args


def main(argv=None):
    args = parse_args(argv)
    # Run by hand, the thread counts still take effect: nothing has loaded NumPy or torch yet.
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, str(args.threads))
    report = run(args.framework, args.names, args)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
