"""The results of one device kind ("cpu" or "gpu"): a JSON file, a markdown table and a bar chart.

build() gathers the workers' reports into one dict (what the JSON file holds); markdown() and
plot_ratios() render that dict, so the three files always show the same numbers.
"""
import json
import math
import re

from . import specs

DEVICE_TITLES = {"cpu": "CPU", "gpu": "GPU"}


def build(kind, run_info, reports):
    """One results dict for device kind `kind` from {framework: worker report} and the run's details."""
    ours, theirs = specs.PAIRS[kind]
    goals = specs.GOALS[kind]
    names = [n for n in specs.ORDER if n in run_info["workloads"]]
    rows = []
    for name in names:
        row = {"workload": name, "title": specs.WORKLOADS[name].title}
        for framework in (ours, theirs):
            result = reports.get(framework, {}).get("workloads", {}).get(name, {})
            row[framework] = {key: result.get(key) for key in ("median_ms", "min_ms", "error", "cache_probe_ms")}
        a, b = row[ours]["median_ms"], row[theirs]["median_ms"]
        row["ratio"] = a / b if a is not None and b else None
        a, b = row[ours]["min_ms"], row[theirs]["min_ms"]
        row["ratio_min"] = a / b if a is not None and b else None
        reference = reports.get(specs.REFERENCE[kind], {}).get("workloads", {}).get(name, {})
        row["reference"] = {key: reference.get(key) for key in ("median_ms", "min_ms", "error")}
        a, b = row["reference"]["median_ms"], row[ours]["median_ms"]
        row["reference_over_fast"] = a / b if a is not None and b else None
        row["goal"] = goals.get(name)
        row["meets_goal"] = None if row["ratio"] is None or row["goal"] is None else row["ratio"] <= row["goal"]
        rows.append(row)
    notes = list(run_info.get("notes", []))
    for framework in (ours, theirs):
        report = reports.get(framework, {})
        if report.get("skipped"):
            notes.append(f"{framework} skipped: {report['skipped']}")
        if report.get("error"):
            notes.append(f"{framework} failed: {report['error']}")
        for name, result in report.get("workloads", {}).items():
            for key in ("error", "warning"):
                if result.get(key):
                    notes.append(f"{framework} {name}: {result[key]}")
    reference = specs.REFERENCE[kind]
    if reports.get(reference, {}).get("error"):
        notes.append(f"{reference} failed: {reports[reference]['error']}")
    return {"device_kind": kind, "pair": [ours, theirs], "reference": reference, "run": run_info, "rows": rows,
            "memory": _memory(kind, names, reports, (ours, theirs)), "notes": notes,
            "frameworks": {fw: reports.get(fw, {"skipped": "not run"}) for fw in (ours, theirs, reference)}}


def _memory(kind, names, reports, frameworks):
    """Peak memory per framework and workload (MiB): resident set on the CPU, memory pool on the GPU."""
    table = {}
    for framework in frameworks:
        report = reports.get(framework, {})
        workloads = report.get("workloads", {})
        if kind == "gpu":
            per = {n: workloads.get(n, {}).get("pool_mib") for n in names}
        else:
            per = {n: workloads.get(n, {}).get("rss_peak_mib") for n in names}
        small = [v for n, v in per.items() if n in specs.CORE_WORKLOADS and v is not None]
        entry = {"per_workload": per, "peak_W1_O4": max(small) if small else None}
        if kind == "gpu":
            entry["allocated_per_workload"] = {n: workloads.get(n, {}).get("allocated_mib") for n in names}
        else:
            entry["after_import"] = report.get("memory", {}).get("after_import_mib")
            entry["peak_run"] = report.get("memory", {}).get("rss_peak_mib")
        table[framework] = entry
    return table


def write_json(data, path):
    path.write_text(json.dumps(data, indent=1) + "\n")


# -- markdown ------------------------------------------------------------------------------------

def _ms(value):
    if value is None:
        return "—"
    return f"{value:.2f}" if value < 100 else f"{value:.1f}"


def _ratio(value):
    return "—" if value is None else f"{value:.2f}×"


def _mib(value):
    return "—" if value is None else f"{value:.0f}"


def _goal(row):
    if row["goal"] is None:
        return ""
    verdict = "" if row["meets_goal"] is None else (" met" if row["meets_goal"] else " **not met**")
    return f"≤ {row['goal']:g}×{verdict}"


def shown_command(command, options=("--out",)):
    """The command as a reader reruns it: without the options in `options` and their values, which say only where
    its files went (the text between two commands, as in "`a`, then `b`", is kept)."""
    for option in options:
        command = re.sub(rf"\s{re.escape(option)}(=|\s+)[^\s`]+", "", command)
    return command


def markdown(data):
    """The results as a markdown page: the table, peak memory, the cache probe, machine, versions, threads, notes."""
    kind, run = data["device_kind"], data["run"]
    ours, theirs = data["pair"]
    lines = [f"# tinygan vs PyTorch on the {DEVICE_TITLES[kind]}", ""]
    commit = run.get("git", {}).get("commit") or "unknown"
    dirty = " (with uncommitted changes)" if run.get("git", {}).get("dirty") else ""
    lines += [f"`{shown_command(run['command'])}`, tinygan at commit {commit}{dirty}.",
              f"float32, seed {run['seed']}, {run['warmup']} warm-up step{'s' * (run['warmup'] != 1)} then "
              f"{run['steps']} timed step{'s' * (run['steps'] != 1)} per "
              f"workload{' (QUICK MODE: tiny shapes, not a measurement)' if run['quick'] else ''}; "
              "times in ms per step; ratio = tinygan median / PyTorch median (below 1: tinygan is faster). "
              "Each framework ran alone in its own process, with the same thread counts"
              + (f", in {run['rounds']} rounds with the frameworks taking turns; each median and min is over "
                 f"the {run['rounds'] * run['steps']} timed steps of all rounds." if run.get("rounds", 1) > 1 else "."),
              ""]
    if run.get("load_warning"):
        lines += [f"> **Warning:** {run['load_warning']}", ""]

    lines += [f"| workload | {ours} median | {ours} min | {theirs} median | {theirs} min | ratio | goal |",
              "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for row in data["rows"]:
        a, b = row[ours], row[theirs]
        lines.append(f"| {row['workload']} {row['title']} | {_ms(a['median_ms'])} | {_ms(a['min_ms'])} | "
                     f"{_ms(b['median_ms'])} | {_ms(b['min_ms'])} | {_ratio(row['ratio'])} | {_goal(row)} |")
    lines.append("")
    if any(row.get("reference", {}).get("median_ms") is not None for row in data["rows"]):
        lines += ["## The reference code", "",
                  f"`{data['reference']}`: the same workloads with tinygan's readable reference code "
                  "(`tinygan.use_kernels(\"reference\")`) instead of its fast kernels, in the same rounds.", "",
                  "| workload | reference median | reference min | reference / fast |", "| --- | ---: | ---: | ---: |"]
        for row in data["rows"]:
            r = row["reference"]
            lines.append(f"| {row['workload']} | {_ms(r['median_ms'])} | {_ms(r['min_ms'])} | "
                         f"{_ratio(row['reference_over_fast'])} |")
        lines.append("")

    memory = data["memory"]
    if kind == "gpu":
        lines += ["## Peak GPU memory (MiB)", "",
                  "Per workload, the memory pool's peak: CuPy's default pool (freed before each workload) and "
                  "PyTorch's caching allocator (`max_memory_reserved`, with `max_memory_allocated` in brackets).", ""]
    else:
        lines += ["## Peak resident memory (MiB)", "",
                  "The resident set's high-water mark of each framework's process (Linux VmHWM, restarted before "
                  "each workload, so a row is the process's size at that workload's peak, imports included; "
                  "the run's peak is the largest of them, what ru_maxrss would say without the restarts).", ""]
    lines += [f"| | {ours} | {theirs} |", "| --- | ---: | ---: |"]

    def cell(framework, name):
        entry = memory[framework]
        value = _mib(entry["per_workload"].get(name))
        if kind == "gpu" and entry.get("allocated_per_workload", {}).get(name) is not None:
            value += f" ({_mib(entry['allocated_per_workload'][name])})"
        return value

    if kind == "cpu":
        lines.append(f"| after imports | {_mib(memory[ours].get('after_import'))} | "
                     f"{_mib(memory[theirs].get('after_import'))} |")
    for row in data["rows"]:
        lines.append(f"| {row['workload']} | {cell(ours, row['workload'])} | {cell(theirs, row['workload'])} |")
    lines.append(f"| peak of W1–O4 | {_mib(memory[ours]['peak_W1_O4'])} | {_mib(memory[theirs]['peak_W1_O4'])} |")
    if kind == "cpu":
        lines.append(f"| peak of the whole run | {_mib(memory[ours].get('peak_run'))} | "
                     f"{_mib(memory[theirs].get('peak_run'))} |")
    lines.append("")

    if kind == "cpu" and any(row[fw].get("cache_probe_ms") for row in data["rows"] for fw in (ours, theirs)):
        lines += _cache_probe_section(data["rows"], ours, theirs)

    machine = run["machine"]
    lines += ["## Machine, versions, threads", "",
              f"- platform: {machine['platform']}",
              f"- CPU: {machine['cpu']}, {machine['cores']} logical cores"
              + (f", {machine['vector_instructions']} (the BLAS kernel each framework ran is below)"
                 if machine.get("vector_instructions") else "")]
    versions = {}
    for framework in (ours, theirs):
        versions.update(data["frameworks"][framework].get("versions", {}))
    if versions.get("gpu"):
        lines.append(f"- GPU: {versions['gpu']}")
    lines.append("- versions: " + ", ".join(f"{k} {v}" for k, v in
                                             [("python", machine["python"])] + sorted(versions.items())
                                             if k != "gpu"))
    lines.append(f"- threads: `--threads {run['threads']}`, so " +
                 ", ".join(f"{v}={run['threads']}" for v in run["thread_variables"]) + " in every worker")
    for framework in (ours, theirs):
        threads = {k: v for k, v in data["frameworks"][framework].get("threads", {}).items()
                   if k not in ("requested", "env")}
        if threads:
            lines.append(f"  - {framework}: " + "; ".join(
                f"{k} {', '.join(v) if isinstance(v, list) else v}" for k, v in threads.items()))
    library_env = data["frameworks"][ours].get("threads", {}).get("env", {})
    library_settings = {k: v for k, v in library_env.items() if k not in run["thread_variables"]}
    if library_settings:
        lines.append("- library settings in the environment (they change the speed; tinygan/runtime/malloc.py, "
                     "benchmarks/README.md): " + ", ".join(f"{k}={'unset' if v is None else v}"
                                                          for k, v in library_settings.items()))
    before, after = run["load_before"], run["load_after"]
    lines += [f"- load average (1, 5, 15 min): {', '.join(f'{v:.2f}' for v in before)} before the run, "
              f"{', '.join(f'{v:.2f}' for v in after)} after it", ""]

    lines += ["## Workloads", ""]
    for row in data["rows"]:
        lines.append(f"- **{row['workload']}**: {specs.WORKLOADS[row['workload']].spec}")
    lines.append("")
    if data["notes"]:
        lines += ["## Notes", ""] + [f"- {note}" for note in data["notes"]] + [""]
    return "\n".join(lines)


def _cache_probe_section(rows, ours, theirs):
    """The cache probe's readings per workload: the range over each framework's probes (before and after the
    timed steps of every round), read on the core that wrote the buffer and on the other one."""
    lines = ["## The cache probe (ms)", "",
             "Before and after each workload's timed steps, each worker timed reading a 4 MB buffer just written, on "
             "the core that wrote it and on another one (benchmarks/probe.py); the range over the probes. On the "
             "machine the suite was written on, quiet periods read 0.07–0.10 ms on both cores, slow ones 0.12–0.17 "
             "on the same core and 0.20–0.26 on the other, and tinygan's memory-bound passes run slower in them.", "",
             f"| workload | {ours}: same core | other core | {theirs}: same core | other core |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for row in rows:
        cells = [_probe_range(row[framework].get("cache_probe_ms"), core)
                 for framework in (ours, theirs) for core in ("same_core", "other_core")]
        lines.append(f"| {row['workload']} | " + " | ".join(cells) + " |")
    return lines + [""]


def _probe_range(probes, core):
    """"low–high" of the probes' readings on `core` (one number where they agree to 0.01 ms), "—" for none."""
    values = [probe[core] for probe in probes or [] if probe.get(core) is not None]
    if not values:
        return "—"
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}–{high:.2f}"


# -- the chart ------------------------------------------------------------------------------------

def plot_ratios(data, path):
    """A bar per workload: tinygan median / PyTorch median, with parity at 1 and the goals.

    Without PyTorch numbers (not installed), the bars are tinygan's medians in ms instead.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours, theirs = data["pair"]
    rows = data["rows"]
    labels = [row["workload"] for row in rows]
    have_ratios = any(row["ratio"] is not None for row in rows)
    if have_ratios:
        values = [row["ratio"] if row["ratio"] is not None else math.nan for row in rows]
    else:
        values = [row[ours]["median_ms"] if row[ours]["median_ms"] is not None else math.nan for row in rows]

    fig, ax = plt.subplots(figsize=(8, 4.2))
    colors = ["#4c72b0" if row.get("meets_goal") is not False else "#dd8452" for row in rows]
    bars = ax.bar(labels, values, color=colors)
    for bar, value in zip(bars, values):
        if not math.isnan(value):
            text = f"{value:.2f}×" if have_ratios else f"{value:.1f}"
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, value), ha="center", va="bottom", fontsize=8)
    if have_ratios:
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--", label="parity with PyTorch")
        goal_x = [i for i, row in enumerate(rows) if row["goal"] is not None]
        if goal_x:
            ax.scatter(goal_x, [rows[i]["goal"] for i in goal_x], marker="_", s=600, color="#c44e52",
                       zorder=3, label="goal")
        ax.set_ylabel(f"{ours} / {theirs}, median step time")
        ax.set_title(f"tinygan vs PyTorch on the {DEVICE_TITLES[data['device_kind']]} (lower is better)")
        ax.legend(loc="upper left", fontsize=8)
    else:
        ax.set_ylabel(f"{ours} median step time (ms)")
        ax.set_title(f"tinygan on the {DEVICE_TITLES[data['device_kind']]} ({theirs} not available)")
    tops = [v for v in values if not math.isnan(v)] + [row["goal"] for row in rows if have_ratios and row["goal"]]
    ax.set_ylim(0, 1.25 * max(tops + [1.0]))  # headroom for the labels and the notes in the corner
    flags = (["QUICK MODE"] if data["run"]["quick"] else []) + \
        ([f"machine loaded (load {data['run']['load_before'][0]:.1f}): timings distorted"]
         if data["run"].get("load_warning") else [])
    if flags:
        ax.text(0.99, 0.97, "\n".join(flags), transform=ax.transAxes, ha="right", va="top", color="#c44e52",
                fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
