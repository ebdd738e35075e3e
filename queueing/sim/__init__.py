"""The queue simulator: days of a site in simulated time, driven by the real policy and
estimator code (see ``queueing.simulate`` for the command line and docs/estimates.md)."""
