"""A notebook run as a process in a fresh Jupyter kernel, started again when its kernel lost its port.

Jupyter chooses a kernel's ports by binding free ones and closing them, and the kernel binds them a moment later;
another process (such as the kernel of a lesson run beside it) may take one in between. The kernel then dies before
the notebook's first cell. That says nothing about the notebook, so the run is started again."""
import subprocess

PORT_TAKEN = ("Address already in use", "Kernel died before replying to kernel_info")
KERNEL_START_TRIES = 3


def lost_its_port(done: subprocess.CompletedProcess) -> bool:
    """Whether a run failed because its kernel could not bind the port chosen for it."""
    return done.returncode != 0 and all(sign in done.stderr for sign in PORT_TAKEN)


def run_in_a_kernel(command: list[str], **options) -> subprocess.CompletedProcess:
    """subprocess.run(command, capture_output=True, text=True, **options), again while its kernel lost its port."""
    for _ in range(KERNEL_START_TRIES):
        done = subprocess.run(command, capture_output=True, text=True, **options)
        if not lost_its_port(done):
            break
    return done
