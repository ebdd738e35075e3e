"""argparse ``type=`` converters for the command lines' counts, rates and durations.

A bad value is refused by argparse itself (usage, the option's name, exit status 2) before
anything starts, rather than by a server started for nothing or a run that measures
nothing. Shared by ``switchboard`` (realtime/cli.py), the simulators and the load tests.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def whole(minimum: int = 1) -> Callable[[str], int]:
    """A whole number of at least ``minimum``."""

    def convert(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    convert.__name__ = "whole number"  # argparse names the type in its messages
    return convert


def number(minimum: float = 0.0, above: bool = True) -> Callable[[str], float]:
    """A finite number above ``minimum`` (or at least it, with ``above=False``)."""

    def convert(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {raw!r}")
        if value < minimum or (above and value == minimum):
            word = "above" if above else "at least"
            raise argparse.ArgumentTypeError(f"must be {word} {minimum:g}, got {raw}")
        return value

    convert.__name__ = "number"
    return convert
