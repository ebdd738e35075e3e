"""Dispatch topics (``tech:``, ``job:``, ``org:``) and device publish ops (issue 5)."""

from __future__ import annotations
