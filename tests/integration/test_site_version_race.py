"""``PUT /v1/sites/{site}`` with a ``version``: the check that nobody saved the site since and
the write are one step. They were two (read the version, then write), so two admins saving
the same version at once could both be told 200, the second silently undoing the first."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from queueing.demo import demo_site
from queueing.engine import Engine
from queueing.errors import SiteChanged
from queueing.store import Store
from tests.integration.conftest import ADMIN, Server


def _named(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return {**doc, "name": {"zh": name, "en": name}}


async def test_concurrent_puts_of_one_version_exactly_one_wins(
        server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    # A store slow to write (a busy Redis, a long document): every PUT has read the version
    # before the first one writes.
    run = Store.run

    async def slow(self: Store, name: str, *args: Any) -> dict[str, Any]:
        if name == "put_site":
            await asyncio.sleep(0.2)
        return await run(self, name, *args)

    monkeypatch.setattr(Store, "run", slow)
    admin = server.auth("admin")
    doc = (await server.client.get("/v1/sites/demo", headers=admin)).json()
    names = [f"Clinic {i}" for i in range(6)]
    answers = await asyncio.gather(*[
        server.client.put("/v1/sites/demo", json=_named(doc, n), headers=admin) for n in names])
    won = [(n, r) for n, r in zip(names, answers, strict=True) if r.status_code == 200]
    assert len(won) == 1, [r.status_code for r in answers]
    winner, answer = won[0]
    for r in answers:
        if r.status_code != 200:
            assert (r.status_code, r.json()["code"]) == (409, "site_changed")
            assert r.json()["details"]["current"] == answer.json()["version"]
    now = (await server.client.get("/v1/sites/demo", headers=admin)).json()
    assert now["name"]["en"] == winner and now["version"] == answer.json()["version"]


async def test_a_save_between_the_check_and_the_write_is_not_undone(
        demo: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone saves right after the version was checked, before the write: the script
    itself refuses (site_changed), and theirs stays."""
    version = await demo.version("demo")
    theirs, mine = demo_site(), demo_site()
    theirs.name, mine.name = {"en": "Theirs"}, {"en": "Mine"}
    run = demo.store.run

    async def saved_meanwhile(name: str, site: str, *args: Any) -> dict[str, Any]:
        if name == "put_site" and args[-1]:  # the guarded write: another admin got there first
            monkeypatch.setattr(demo.store, "run", run)
            await demo.put_site("demo", theirs, ADMIN)
        return await run(name, site, *args)

    monkeypatch.setattr(demo.store, "run", saved_meanwhile)
    with pytest.raises(SiteChanged) as refused:
        await demo.put_site("demo", mine, ADMIN, version=version)
    stored = await demo.version("demo")
    assert refused.value.details == {"current": stored, "field": "version"}
    assert (await demo.config("demo")).name == {"en": "Theirs"}
    # With the version now stored, the put is taken.
    await demo.put_site("demo", mine, ADMIN, version=stored)
    assert msgspec.to_builtins((await demo.config("demo")).name) == {"en": "Mine"}
