"""``PUT /v1/sites/{site}`` of a document read from another site, with a version for a site
that does not exist, and with languages no page has.

A copy of the demo put as a new site was refused (400 "the document's id 'demo' is not the
site 't1'"; with the id taken out, 409 ``site_changed`` "saved by someone else" for a site
nobody had saved), though docs/deployment.md says a read document can be put as it is. A
site put with ``languages: ["fr"]`` was taken, and its board then mixed English headings
with Chinese counter names."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from queueing.demo import demo_site
from queueing.engine import Engine
from queueing.errors import BadRequest
from tests.integration.conftest import ADMIN, Server


async def _read(server: Server, site: str) -> dict[str, Any]:
    r = await server.client.get(f"/v1/sites/{site}", headers=server.auth("admin"))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def _absent(server: Server, site: str) -> None:
    admin = server.auth("admin")
    r = await server.client.get(f"/v1/sites/{site}", headers=admin)
    assert (r.status_code, r.json()["code"]) == (404, "unknown_site")
    assert site not in (await server.client.get("/v1/sites", headers=admin)).json()["sites"]


def _config(doc: dict[str, Any]) -> dict[str, Any]:
    """A site's document without what GET adds (id, version, live counter state)."""
    out = {k: v for k, v in doc.items() if k not in ("id", "version", "unserved")}
    out["counters"] = [{k: v for k, v in c.items() if k not in ("state", "ticket")}
                       for c in doc["counters"]]
    return out


async def test_a_site_read_is_put_as_a_new_site(server: Server) -> None:
    """docs/deployment.md §3: GET one site, PUT it as another. The copy creates t1; demo is
    untouched; the copy's version (demo's) is not t1's and is not checked against it."""
    admin = server.auth("admin")
    demo = await _read(server, "demo")
    r = await server.client.put("/v1/sites/t1", json=demo, headers=admin)
    assert r.status_code == 200, r.text
    t1 = r.json()
    assert t1["id"] == "t1" and _config(t1) == _config(demo)
    assert all(c["state"] == "closed" and not c["ticket"] for c in t1["counters"])
    assert (await _read(server, "t1"))["version"] == t1["version"]
    assert await _read(server, "demo") == demo

    # Put again, the copy would replace t1, which now exists (an admin's edits to it, or a
    # site someone mistyped the URL of): refused, naming what to do, and t1 is as it was.
    changed = {**demo, "name": {"zh": "分院", "en": "Annex"}}
    r = await server.client.put("/v1/sites/t1", json=changed, headers=admin)
    assert (r.status_code, r.json()["code"]) == (400, "bad_request"), r.text
    body = r.json()
    assert body["details"] == {"field": "id", "copy_of": "demo", "site": "t1"}
    assert "already exists" in body["message"] and "without" in body["message"]
    assert await _read(server, "t1") == t1
    # Without its id and version it replaces t1 on purpose.
    r = await server.client.put("/v1/sites/t1", json=_config(changed), headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == {"zh": "分院", "en": "Annex"}
    # With t1's own id and version it is an ordinary edit of t1.
    again = {**r.json(), "name": {"zh": "二分院", "en": "Annex 2"}}
    r = await server.client.put("/v1/sites/t1", json=again, headers=admin)
    assert r.status_code == 200 and r.json()["name"]["en"] == "Annex 2", r.text


async def test_a_version_for_a_site_that_does_not_exist(server: Server) -> None:
    """A version says "the site is still the document GET answered": for a site that does
    not exist that is false, and the answer says so (404 unknown_site, the field named), not
    409 "saved by someone else" with no current version. Nothing is saved."""
    admin = server.auth("admin")
    demo = await _read(server, "demo")
    for doc in ({**demo, "id": "t2"}, {k: v for k, v in demo.items() if k != "id"}):
        r = await server.client.put("/v1/sites/t2", json=doc, headers=admin)
        assert (r.status_code, r.json()["code"]) == (404, "unknown_site"), r.text
        body = r.json()
        assert body["details"] == {"field": "version", "site": "t2"}
        assert "does not exist" in body["message"] and "without" in body["message"]
        await _absent(server, "t2")
    r = await server.client.put("/v1/sites/t2", json=_config(demo), headers=admin)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("languages", [["fr"], ["fr", "en"], ["de", "zh"]])
async def test_languages_no_page_has_first_are_refused(server: Server,
                                                       languages: list[str]) -> None:
    """The pages are in Chinese and English (clients/web/js/i18n.js UI_LANGS) and open in
    the site's first language: one they do not have is refused, the choices in details,
    and nothing is saved (neither a new site nor a change to the demo)."""
    admin = server.auth("admin")
    demo = await _read(server, "demo")
    doc = {**_config(demo), "languages": languages}
    r = await server.client.put("/v1/sites/fr1", json=doc, headers=admin)
    assert (r.status_code, r.json()["code"]) == (400, "bad_request"), r.text
    body = r.json()
    assert body["details"] == {"field": "languages", "reason": "unsupported_language",
                               "allowed": ["zh", "en"], "language": languages[0]}
    assert repr(languages[0]) in body["message"]
    await _absent(server, "fr1")
    r = await server.client.put("/v1/sites/demo", json={**demo, "languages": languages},
                                headers=admin)
    assert (r.status_code, r.json()["details"]["field"]) == (400, "languages"), r.text
    assert await _read(server, "demo") == demo


async def test_a_further_language_is_for_calls(server: Server) -> None:
    """After a first language the pages have, others are taken: the board also says the
    call in them (with the site's own text for it), as at a site in English and Malay."""
    admin = server.auth("admin")
    doc = {**_config(await _read(server, "demo")), "languages": ["en-GB", "ms"],
           "announcements": {"ms": "Nombor {number}, sila ke {counter}"}}
    r = await server.client.put("/v1/sites/my1", json=doc, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["languages"] == ["en-GB", "ms"]


async def test_a_copy_is_not_written_over_a_site_made_meanwhile(
        demo: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two admins copy onto the same new site at once: the check that it does not exist and
    the write are one step, so the second is refused and the first one's stays."""
    theirs, mine = demo_site(), demo_site()
    theirs.name, mine.name = {"en": "Theirs"}, {"en": "Mine"}
    run = demo.store.run

    async def made_meanwhile(name: str, site: str, *args: Any) -> dict[str, Any]:
        if name == "put_site" and args[-1]:  # the guarded write: another admin got there first
            monkeypatch.setattr(demo.store, "run", run)
            await demo.put_site("t3", theirs, ADMIN)
        return await run(name, site, *args)

    monkeypatch.setattr(demo.store, "run", made_meanwhile)
    with pytest.raises(BadRequest) as refused:
        await demo.put_site("t3", mine, ADMIN, copy_of="demo")
    assert refused.value.details == {"field": "id", "copy_of": "demo", "site": "t3"}
    assert msgspec.to_builtins((await demo.config("t3")).name) == {"en": "Theirs"}


def test_openapi_names_what_put_site_answers() -> None:
    import realtime.app  # noqa: F401 - every module registers its routes on import
    from realtime.docs import openapi

    put = openapi()["paths"]["/v1/sites/{site}"]["put"]
    codes = set(put["responses"]["4XX"]["description"].removeprefix("Error: ").split(", "))
    assert {"site_changed", "unknown_site", "bad_request"} <= codes
    assert "copy" in put["summary"] and "version" in put["summary"]
