"""ConfigError, and the checks of one setting's value that name the option as the command line spells it.

config.py checks the settings every run has with these; each family (family.py, and its file in train/) checks its
own settings with them too.
"""
import math
import numbers


class ConfigError(ValueError):
    """A run configuration asks for something tinygan does not have."""


def option(key):
    """How the command line spells a setting (the configuration key with '_' as '-')."""
    return f"--{key.replace('_', '-')}"


def check_choice(name, value, choices):
    """ConfigError naming the valid choices unless `value` is one of them."""
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; valid choices: {', '.join(choices)}")


def check_integer(config, key, low, high, optional=False, memory=False):
    """config[key] a whole number in [low, high] (high None: no upper bound); None too when `optional`.
    memory: the upper bound is what fits in memory, and the message says so."""
    value = config.get(key)
    if value is None and optional:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ConfigError(f"{option(key)} must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        limit = f"at least {low}" if high is None else f"between {low} and {high}"
        why = " (larger would not fit in memory)" if memory else ""
        raise ConfigError(f"{option(key)} must be {limit}{why}, got {value}")


def check_real(key, value, low, high, what):
    """value finite and in [low, high)."""
    if not isinstance(value, numbers.Real) or not math.isfinite(value) or not low <= value < high:
        raise ConfigError(f"{option(key)} ({what}) must be a finite number in [{low:g}, {high:g}), got {value!r}")
