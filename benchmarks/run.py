"""Time tinygan against PyTorch: python -m benchmarks [options]  (or python benchmarks/run.py).

Runs each framework in its own worker process (benchmarks/worker.py), one after the other, with
the same thread counts, and writes for each device kind that ran ("cpu", "gpu"):

    <out>/cpu.md    the table: medians, minimums, ratios, goals, peak memory, machine, versions
    <out>/cpu.json  everything, every step's time included
    <out>/cpu.png   a bar chart of the ratios

Examples
    python -m benchmarks                          # all workloads; CPU, and the GPU when there is one
    python -m benchmarks --threads 2 --device cpu
    python -m benchmarks --workloads W1,O1 --steps 50
    python -m benchmarks --threads 2 --device cpu --rounds 3   # 3 alternating rounds, steps pooled
    python -m benchmarks --quick --out /tmp/bench  # tiny shapes, 2 timed steps: a check, not a measurement
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file (python benchmarks/run.py): make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import report, specs  # noqa: E402  (after the path fix above)
from benchmarks.worker import THREAD_VARIABLES  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def log(message):
    print(message, file=sys.stderr, flush=True)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.split("\n")[2:]))
    parser.add_argument("--workloads", default=",".join(specs.ORDER),
                        help=f"comma-separated subset of {','.join(specs.ORDER)} (default: all)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per workload (default 20; quick: 2)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 3; quick: 1)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for every framework (default: all cores, here %(default)s)")
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                        help="auto: the CPU pair, and the GPU pair when an NVIDIA GPU is present")
    parser.add_argument("--frameworks", default=None,
                        help=f"comma-separated subset of {','.join(specs.FRAMEWORKS)} (default: by --device)")
    parser.add_argument("--quick", action="store_true", help="tiny shapes and 2 timed steps (for tests)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every framework's worker this many times, the frameworks taking turns, and pool "
                             "the timed steps of all rounds: a shared machine's changing speed then falls on both "
                             "sides alike (default 1)")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the column of tinygan's reference code (tinygan.use_kernels('reference'))")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the results (default benchmarks/results; quick: benchmarks/results/quick)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG chart")
    args = parser.parse_args(argv)
    args.names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in args.names if n not in specs.WORKLOADS]
    if unknown or not args.names:
        parser.error(f"--workloads: unknown {unknown}; expected some of {','.join(specs.ORDER)}")
    args.names = [n for n in specs.ORDER if n in args.names]
    args.steps = args.steps if args.steps is not None else (2 if args.quick else 20)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    if args.steps < 1 or args.warmup < 1 or args.threads < 1 or args.rounds < 1:
        parser.error("--steps, --warmup, --threads and --rounds must be at least 1")
    if args.frameworks:
        args.frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
        unknown = [f for f in args.frameworks if f not in specs.FRAMEWORKS]
        if unknown:
            parser.error(f"--frameworks: unknown {unknown}; expected some of {','.join(specs.FRAMEWORKS)}")
    if args.out is None:
        args.out = RESULTS / "quick" if args.quick else RESULTS
    return args


# -- the machine ---------------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_vector_instructions():
    """The widest vector instruction set the CPU has ('AVX-512', 'AVX2', ...): it decides which BLAS kernels run."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2")):
        if flag in flags:
            return name
    return "unknown"


def nvidia_gpu_present():
    """Whether an NVIDIA device is visible (cheap: no CUDA library is loaded)."""
    return any(Path(p).exists() for p in ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version"))


def git_state():
    """The commit the benchmark ran on, and whether tinygan/ had uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "tinygan"], cwd=REPO, capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return {"commit": commit or None, "dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def load_check():
    """(load averages, a warning or None): shared machines distort timings."""
    load = os.getloadavg()
    cores = os.cpu_count() or 1
    if load[0] > 0.5 * cores:
        return load, (f"the 1-minute load average was {load[0]:.2f} on {cores} cores when the run started "
                      f"(above 0.5 × cores): other processes were using the machine, so these timings are "
                      f"distorted; rerun on an idle machine for numbers to quote.")
    return load, None


# -- the workers ---------------------------------------------------------------------------------

def child_env(threads):
    """This environment with the thread counts pinned and the repository importable."""
    env = dict(os.environ)
    for variable in THREAD_VARIABLES:
        env[variable] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def run_worker(framework, args, env):
    """Run one framework's worker to completion; its JSON report (or one that says why it failed)."""
    command = [sys.executable, "-m", "benchmarks.worker", "--framework", framework,
               "--workloads", ",".join(args.names), "--steps", str(args.steps), "--warmup", str(args.warmup),
               "--threads", str(args.threads), "--seed", str(args.seed)] + (["--quick"] if args.quick else [])
    log(f"== {framework}: {' '.join(command[1:])}")
    with tempfile.TemporaryFile("w+") as stdout:  # a file, not a pipe: no deadlock whatever its size
        code = subprocess.run(command, stdout=stdout, env=env, cwd=REPO).returncode
        stdout.seek(0)
        lines = [line for line in stdout.read().splitlines() if line.startswith("{")]
    if code != 0 or not lines:
        return {"framework": framework, "workloads": {},
                "error": f"the worker exited with code {code} (its messages are above, on stderr)"}
    result = json.loads(lines[-1])
    if result.get("skipped"):
        log(f"== {framework} skipped: {result['skipped']}")
    return result


def merge_rounds(round_reports):
    """One framework's worker reports from several rounds as one: step times pooled, memory peaks the largest."""
    first = round_reports[0]
    failed = [r for r in round_reports if r.get("error") or r.get("skipped")]
    if len(round_reports) == 1 or failed:
        return failed[0] if failed else first
    merged = dict(first, workloads={})
    for name, result in first["workloads"].items():
        results = [r["workloads"].get(name, {"error": "missing from a round"}) for r in round_reports]
        errors = [one["error"] for one in results if "error" in one]
        if errors:
            merged["workloads"][name] = {"error": errors[0]}
            continue
        times = [t for one in results for t in one["times_ms"]]
        pooled = dict(result, times_ms=times, steps=len(times), rounds=len(results),
                      median_ms=statistics.median(times), min_ms=min(times),
                      cache_probe_ms=[probe for one in results for probe in one.get("cache_probe_ms", [])])
        for key in result:
            if key.endswith("_mib"):                            # peak memory: the largest of the rounds
                values = [one[key] for one in results if one.get(key) is not None]
                pooled[key] = max(values) if values else None
        merged["workloads"][name] = pooled
    merged["memory"] = dict(first["memory"])
    for key, value in first["memory"].items():
        if isinstance(value, float):                               # a size in MiB: the largest of the rounds
            merged["memory"][key] = max(r["memory"][key] for r in round_reports)
    return merged


def main(argv=None):
    args = parse_args(argv)
    if args.frameworks:
        frameworks = args.frameworks
    else:
        kinds = ["cpu", "gpu"] if args.device == "auto" else [args.device]
        frameworks = [fw for kind in kinds for fw in specs.PAIRS[kind]]
        if not args.no_reference:
            frameworks += [specs.REFERENCE[kind] for kind in kinds]
    notes = []
    if not args.frameworks and args.device == "auto" and not nvidia_gpu_present():
        frameworks = [fw for fw in frameworks if specs.FRAMEWORKS[fw][1] == "cpu"]
        notes.append("no NVIDIA GPU device found (/dev/nvidia*): tinygan-cupy and torch-cuda were not run")
        log(f"== {notes[-1]}")
    load_before, warning = load_check()
    if warning:
        log(f"WARNING: {warning}")
    started = datetime.datetime.now(datetime.timezone.utc)

    env = child_env(args.threads)
    rounds = [{framework: run_worker(framework, args, env) for framework in frameworks} for _ in range(args.rounds)]
    reports = {framework: merge_rounds([one[framework] for one in rounds]) for framework in frameworks}

    run_info = {
        "command": "python -m benchmarks " + shlex.join(sys.argv[1:] if argv is None else argv),
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "workloads": args.names, "steps": args.steps, "warmup": args.warmup, "rounds": args.rounds, "seed": args.seed,
        "quick": args.quick, "threads": args.threads, "thread_variables": list(THREAD_VARIABLES),
        "load_before": list(load_before), "load_after": list(os.getloadavg()), "load_warning": warning,
        "machine": {"platform": platform.platform(), "cpu": cpu_model(), "cores": os.cpu_count(),
                    "vector_instructions": cpu_vector_instructions(),
                    "python": platform.python_version()},
        "git": git_state(), "notes": notes,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, pair in specs.PAIRS.items():
        ran = [fw for fw in pair if fw in reports]
        if not any(reports[fw].get("workloads") for fw in ran):
            if ran:
                log(f"== nothing ran on the {kind}: no {kind}.* files written")
            continue
        data = report.build(kind, run_info, reports)
        report.write_json(data, args.out / f"{kind}.json")
        text = report.markdown(data)
        (args.out / f"{kind}.md").write_text(text)
        written += [args.out / f"{kind}.md", args.out / f"{kind}.json"]
        if not args.no_plot:
            report.plot_ratios(data, args.out / f"{kind}.png")
            written.append(args.out / f"{kind}.png")
        print(text)
    if not written:
        log("no results: every framework was skipped or failed")
        return 1
    log("wrote " + ", ".join(str(p) for p in written))
    failed = [fw for fw, r in reports.items() if r.get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
