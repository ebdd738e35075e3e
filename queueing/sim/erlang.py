"""Erlang C: the M/M/c formulas the simulator is checked against."""

from __future__ import annotations


def erlang_b(servers: int, offered: float) -> float:
    """Blocking probability of M/M/c/c with ``offered`` = lambda/mu erlangs (stable recursion)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return b


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c; 1.0 when the load is not below ``servers``."""
    if offered >= servers:
        return 1.0
    b = erlang_b(servers, offered)
    return servers * b / (servers - offered * (1.0 - b))


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue, ``C(c, a) / (c*mu - lambda)``; infinite when unstable."""
    offered = arrival_rate / service_rate
    if offered >= servers:
        return float("inf")
    return erlang_c(servers, offered) / (servers * service_rate - arrival_rate)
