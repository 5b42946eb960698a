"""Run folders: a new run never overwrites an old one, and only one process trains in a folder at a time.

    folder = new_default_folder("runs", "dcgan-mnist5k")   # runs/dcgan-mnist5k-20250101-120000[-2, -3, ...]
    with lock_run_folder(folder):                         # RunFolderError if another live process holds it
        prepare_new_run(folder, overwrite=False)          # RunFolderError if it already holds a run
        ...

The lock is an operating-system lock (flock) on the file `.lock` in the folder. The kernel drops
it when the process ends, however it ends (kill -9 included), so a `.lock` file left behind by a
dead process is stale by construction: the next process simply takes the lock.
"""
import contextlib
import glob
import os
import time

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

LOCK_NAME = ".lock"
CHECKPOINT = "checkpoint.npz"
# Every file a run of any model writes in its folder, in training or in `tinygan eval`, besides
# samples/epoch_NNN.png: starting over removes these and nothing else (a user's own files stay).
RUN_FILES = (CHECKPOINT, "config.json", "log.jsonl", "curves.png", "metrics.png",
             "reconstructions.png",                            # vaegan
             "turntable.png", "depth.png",                     # nerf
             "eval_restorations.png", "segmentation_eval.png")  # tinygan eval of pix2pix, of unet
SAMPLES_PATTERN = os.path.join("samples", "epoch_*.png")
TEMPORARY_PATTERN = ".checkpoint-*.npz.tmp"

_held = {}  # real path of a folder -> [file descriptor, depth]: this process's locks


class RunFolderError(ValueError):
    """A run folder cannot be used: another process trains in it, it holds a run, or it is not a folder."""


def holds_run(folder):
    """True when `folder` has a checkpoint, configuration or log of a run."""
    return any(os.path.exists(os.path.join(folder, name)) for name in (CHECKPOINT, "config.json", "log.jsonl"))


def new_default_folder(parent, stem):
    """Create and return parent/stem-TIME, adding -2, -3, ... when that name is taken.

    os.mkdir is atomic, so two runs started in the same second still get two folders.
    """
    os.makedirs(parent, exist_ok=True)
    base = os.path.join(parent, f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    for n in range(1, 10_000):
        folder = base if n == 1 else f"{base}-{n}"
        try:
            os.mkdir(folder)
            return folder
        except FileExistsError:
            continue
    raise RunFolderError(f"could not find a free run folder name like {base} (10,000 taken)")


def check_is_folder(folder, option="--out"):
    """RunFolderError unless `folder` is a folder or does not exist yet."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise RunFolderError(f"{option} {folder}: this is a file, not a folder; name a new folder for the run")


def stopped_before_first_checkpoint(folder):
    """True when `folder` holds a run's files but no checkpoint: the run stopped before its first epoch ended."""
    return holds_run(folder) and not os.path.exists(os.path.join(folder, CHECKPOINT))


def prepare_new_run(folder, overwrite=False):
    """Make `folder` ready for a run from scratch: refuse one that holds a run to resume, unless `overwrite`.

    A run stopped before its first checkpoint has nothing to resume, so its files are removed as with
    `overwrite`. Only the files a run writes (RUN_FILES, samples/epoch_NNN.png) are removed.
    """
    check_is_folder(folder)
    if not holds_run(folder):
        return
    if not overwrite and not stopped_before_first_checkpoint(folder):
        raise RunFolderError(f"{folder} already holds a run. Continue it with `tinygan resume {folder}`, "
                             f"or start it over (its checkpoint and log are lost) with --overwrite")
    remove_run_files(folder)


def remove_run_files(folder):
    """Remove every file a run writes in `folder` (RUN_FILES, samples/epoch_NNN.png); leave the others."""
    for name in RUN_FILES:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(folder, name))
    for path in glob.glob(os.path.join(glob.escape(folder), SAMPLES_PATTERN)):
        os.remove(path)


@contextlib.contextmanager
def lock_run_folder(folder):
    """Hold the folder's exclusive lock for the duration of the block (nested use in one process is fine).

    On taking it, temporary checkpoint files left by a killed run are removed: no live process
    can be writing them, since a writer holds the lock.
    """
    check_is_folder(folder)
    key = os.path.realpath(folder)
    if key in _held:
        _held[key][1] += 1
    else:
        _held[key] = [_acquire(folder), 1]
        _remove_temporary_files(folder)
    try:
        yield
    finally:
        _held[key][1] -= 1
        if _held[key][1] == 0:
            os.close(_held.pop(key)[0])  # closing the file drops the lock


def _acquire(folder):
    """Open folder/.lock and lock it without waiting; RunFolderError naming the holder if taken."""
    os.makedirs(folder, exist_ok=True)
    descriptor = os.open(os.path.join(folder, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _lock(descriptor)
    except (BlockingIOError, PermissionError):  # taken; other errors (no locks on this file system) go up
        holder = os.read(descriptor, 64).decode("ascii", "replace").strip() or "another process"
        os.close(descriptor)
        raise RunFolderError(f"run folder {folder} is in use by process {holder}: wait until it ends or stop "
                             f"it; two runs in one folder would overwrite each other's checkpoint") from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, str(os.getpid()).encode("ascii"))
    return descriptor


def _lock(descriptor):
    """Take an exclusive lock on an open file now, or raise OSError."""
    if fcntl is not None:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:
        msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)


def _remove_temporary_files(folder):
    for path in glob.glob(os.path.join(glob.escape(folder), TEMPORARY_PATTERN)):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
