"""Booking topics (``booking:{id}``), registered with the hub (issue 4)."""

from __future__ import annotations
