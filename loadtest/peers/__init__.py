"""Peer servers doing Switchboard's fan-out job the usual ways, for side-by-side runs.

All listen on 127.0.0.1 only. A publisher connection sends
``{"op": "publish", "items": [{"topic", "seq", "type", "data"}, ...]}`` (socket.io: the
``publish`` event); the server stamps ``ts`` (its clock, ms) on receipt — the moment of
the change — and delivers ``{"topic", "seq", "ts", "type", "data"}`` to every subscriber
of each item's topic. A subscriber sends ``{"op": "subscribe", "topic"}`` (socket.io: the
``subscribe`` event) and gets ``{"topic", "type": "subscribed"}`` back.
"""
