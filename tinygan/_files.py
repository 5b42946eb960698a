"""Temporary files that become outputs: written beside their destination, then renamed into place.

tempfile.mkstemp makes its files readable by their owner only (0600), which is right for a secret
and wrong for a checkpoint or a log that is renamed into a run folder beside 0644 pictures. So the
temporary file gets the mode an ordinary new file would get: 0666 less the process's umask.
"""
import os
import tempfile


def ordinary_file_mode():
    """0666 less the umask: the mode open() gives a new file."""
    umask = os.umask(0)       # reading the umask means setting it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask


def output_temporary(folder, prefix, suffix):
    """(file descriptor, path) of a new temporary file in `folder`, with an ordinary file's mode."""
    handle, path = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=suffix)
    os.fchmod(handle, ordinary_file_mode())
    return handle, path
