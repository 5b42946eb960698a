"""The benchmarks: tinygan against PyTorch, for speed (this package's top level) and for quality (quality/).

    python -m benchmarks                      # every workload, every framework this machine has
    python -m benchmarks --quick --out /tmp/b  # tiny shapes, 2 timed steps: checks the suite works
    python -m benchmarks.quality --only vae --test-data FOLDER   # one quality experiment (see quality/run.py)

The speed suite
    specs              what each workload is (shapes, goals) and the numbers both sides start from
    tinygan_workloads  the workloads written with tinygan, one function each
    torch_workloads    the same workloads written with PyTorch (imports torch; tinygan never does)
    worker             one framework's run in its own process, JSON on stdout
    run                the command line: starts the workers, writes the table, JSON and chart
    report             the markdown table, the JSON file and the bar chart
    probe              the cache probe: which of the machine's quiet or slow periods a row was measured in
    products           a workload's convolution products alone, timed beside its whole step, and
                       PyTorch's convolution layers alone beside its step, in the same process
                       (python -m benchmarks.products --workload U1)

twins/     the PyTorch twins of tinygan's networks, one file per model family, used by both suites
quality/   the quality experiments, one file per experiment, and their command line and report

This package imports nothing heavy at load time: the worker must set the thread counts
before NumPy or PyTorch is imported.
"""
