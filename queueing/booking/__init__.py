"""Appointments: one slot inventory for every channel (see docs/appointments.md).

Pure policy (``schedule``, ``quota``, ``rules``, ``alerts``) takes time as an argument and
does no I/O; ``store`` + ``lua/`` make every change one atomic script that appends its event
to the site's stream; ``engine`` is the one executor transports call; ``jobs``, ``tasks``,
``notify`` and ``consumer`` are the side effects (arq jobs, notifiers, queue alerts).
"""
