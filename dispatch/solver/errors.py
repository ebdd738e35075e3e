"""Errors of the dispatch solver set-up.

Tree (the root will later be re-parented under the project's root error)::

    DispatchError
    ├── InvalidProblem      a Problem that contradicts itself (bad ids, matrix shape, ...)
    ├── InvalidInstance     a benchmark instance file that cannot be read
    ├── UnknownTask         a task id the problem does not know
    ├── DuplicateTask       a task that is already in the plan
    └── BackendUnavailable  the requested solver cannot express the problem

They carry fields, not formatted strings, so callers can turn them into wire errors.
"""

from __future__ import annotations


class DispatchError(Exception):
    """Root of every error raised by ``dispatch``."""


class InvalidProblem(DispatchError):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(field, detail)
        self.field = field
        self.detail = detail


class InvalidInstance(DispatchError):
    def __init__(self, path: str, detail: str) -> None:
        super().__init__(path, detail)
        self.path = path
        self.detail = detail


class UnknownTask(DispatchError):
    def __init__(self, task_id: str) -> None:
        super().__init__(task_id)
        self.task_id = task_id


class DuplicateTask(DispatchError):
    def __init__(self, task_id: str, vehicle_id: str | None) -> None:
        super().__init__(task_id, vehicle_id)
        self.task_id = task_id
        self.vehicle_id = vehicle_id


class BackendUnavailable(DispatchError):
    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(backend, reason)
        self.backend = backend
        self.reason = reason
