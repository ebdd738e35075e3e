"""docs/deploy/nginx.conf, run by a real nginx in front of a real server: HTTPS answers, the
HTTP port redirects, and a browser-like websocket (an Origin of the public https address,
a non-default port) gets its snapshot and live calls through the proxy.

Only the listen addresses, the upstream port and the certificate paths are swapped; every
other line is the documented file. ``scripts/test`` installs nginx (Debian's nginx-light)
when it runs as root; elsewhere the test fails until nginx is installed (it never skips).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.conftest import free_port
from tests.integration.conftest import Server

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "docs" / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)



ACCESS_LOG = "/var/log/nginx/switchboard.access.log"
ERROR_LOG = "/var/log/nginx/switchboard.error.log"


def _site_conf(upstream: int, tls: int, plain: int, cert: Path, key: Path,
               access_log: Path | None = None, error_log: Path | None = None) -> str:
    text = CONF.read_text()
    swaps = {"server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
             "listen 443 ssl;": f"listen 127.0.0.1:{tls} ssl;",
             "listen 80;": f"listen 127.0.0.1:{plain};",
             "/etc/ssl/switchboard/fullchain.pem": str(cert),
             "/etc/ssl/switchboard/privkey.pem": str(key)}
    for old, new in swaps.items():
        assert text.count(old) == 1, f"{old!r} is no longer in {CONF}: update this test"
        text = text.replace(old, new)
    assert text.count(ACCESS_LOG) == 2, f"{ACCESS_LOG} (both servers) is no longer in {CONF}"
    assert text.count(ERROR_LOG) == 2, f"{ERROR_LOG} (both servers) is no longer in {CONF}"
    text = text.replace(ERROR_LOG, str(error_log or "/dev/null"))
    return text.replace(ACCESS_LOG, str(access_log or "/dev/null"))


@pytest.fixture
def proxy(server: Server, tmp_path: Path) -> Iterator[tuple[int, int]]:
    with nginx(server.settings.port, tmp_path) as ports:
        yield ports


@contextlib.contextmanager
def nginx(upstream: int, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """The documented file in a real nginx in front of port ``upstream``; its logs in
    ``tmp_path/nginx/logs`` (access.log, site-error.log, and error.log, the main one)."""
    if NGINX is None or shutil.which("openssl") is None:  # a failure, never a skip
        pytest.fail("the deployment test needs nginx and openssl (apt-get install nginx-light "
                    "openssl; scripts/test does it as root)", pytrace=False)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    tls, plain = free_port(), free_port()
    site = tmp_path / "switchboard.conf"
    prefix = tmp_path / "nginx"
    site.write_text(_site_conf(upstream, tls, plain, cert, key, prefix / "logs" / "access.log",
                               prefix / "logs" / "site-error.log"))
    (prefix / "logs").mkdir(parents=True)
    main = tmp_path / "nginx.conf"
    # As root, nginx's workers would run as nobody and could not write the temporary files
    # under pytest's private folders (bodies above 16 KB go there).
    user = "user root;" if os.geteuid() == 0 else ""
    main.write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
""")
    assert NGINX is not None
    out = (prefix / "logs" / "stdout.log").open("wb")
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(main)],
                            stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{plain}/", timeout=0.5)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise AssertionError((prefix / "logs" / "stdout.log").read_text()) from None
                time.sleep(0.05)
        yield tls, plain
    finally:
        proc.terminate()
        proc.wait(10)
        out.close()


async def test_documented_nginx_config_serves_https_and_websockets(
        server: Server, proxy: tuple[int, int]) -> None:
    tls, plain = proxy
    public = f"https://127.0.0.1:{tls}"
    async with httpx.AsyncClient(verify=False, timeout=10) as http:
        r = await http.get(f"http://127.0.0.1:{plain}/readyz")
        assert r.status_code == 301 and r.headers["location"].startswith("https://")
        r = await http.get(f"{public}/readyz")
        assert r.status_code == 200
        r = await http.get(f"{public}/metrics")  # only on the host itself
        assert r.status_code == 404
        assert (await http.get(f"{server.base}/metrics")).status_code == 200
        # Bodies pass through; the server's own limit answers for oversize ones.
        r = await http.post(f"{public}/v1/sites/demo/tickets", headers=server.auth(
            "kiosk", site="demo"), content=b"{" + b" " * 70_000 + b"}")
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"

        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        token = server.token("display", site="demo")
        async with websockets.connect(f"wss://127.0.0.1:{tls}/ws?token={token}", ssl=insecure,
                                      origin=public,  # type: ignore[arg-type]
                                      subprotocols=["switchboard.v1.json"],  # type: ignore[list-item]
                                      ) as ws:
            await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 1}))
            snap = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert snap["op"] == "snapshot" and snap["id"] == 1
            r = await http.post(f"{public}/v1/sites/demo/tickets",
                                headers=server.auth("kiosk", site="demo"),
                                json={"service": "internal", "channel": "kiosk"})
            assert r.status_code == 201, r.text
            r = await http.post(f"{public}/v1/sites/demo/counters/1/call-next",
                                headers=server.auth("agent", site="demo", counter="1"))
            assert r.status_code == 200, r.text
            types = []
            async with asyncio.timeout(10):
                while "called" not in types:
                    types.append(json.loads(await ws.recv())["type"])
        # A page from elsewhere is still refused through the proxy.
        with pytest.raises(websockets.exceptions.WebSocketException):
            async with websockets.connect(
                    f"wss://127.0.0.1:{tls}/ws?token={token}", ssl=insecure,
                    origin="https://evil.example",  # type: ignore[arg-type]
                    subprotocols=["switchboard.v1.json"],  # type: ignore[list-item]
                    ) as ws:
                await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo"}))
                await asyncio.wait_for(ws.recv(), 5)


def test_the_proxy_on_this_host_is_trusted_for_the_client_address() -> None:
    from realtime.cli import uvicorn_options
    from realtime.settings import from_env
    opts = uvicorn_options(from_env({}))
    assert opts["proxy_headers"] is True and opts["forwarded_allow_ips"] == "127.0.0.1"
    none = uvicorn_options(from_env({"SWITCHBOARD_TRUSTED_PROXIES": ""}))
    assert none["proxy_headers"] is False


async def test_the_access_log_keeps_no_token(server: Server, proxy: tuple[int, int],
                                             tmp_path: Path) -> None:
    """deployment.md says tokens in URLs are not logged: nginx's log has the path only."""
    tls, plain = proxy
    token = server.token("display", site="demo")
    async with httpx.AsyncClient(verify=False, timeout=10) as http:
        r = await http.get(f"https://127.0.0.1:{tls}/board/demo?token={token}",
                           headers={"Referer": f"https://x/board/demo?token={token}"})
        assert r.status_code == 200
        await http.get(f"http://127.0.0.1:{plain}/board/demo?token={token}")
    log = (tmp_path / "nginx" / "logs" / "access.log").read_text()
    assert log.count("GET /board/demo ") == 2, log
    assert token not in log and "token=" not in log


async def test_the_error_log_keeps_no_token(tmp_path: Path) -> None:
    """The site's error log is at ``crit``: nginx writes the whole request line, token
    included, with every failure to reach Switchboard (a restart, a deploy), and 39 year-long
    display tokens were found in one after a test day. The access log still says 502."""
    token = "eyJhbGciOiJIUzI1NiJ9.not-a-real-token.but-shaped-like-one"
    with nginx(free_port(), tmp_path) as (tls, _plain):  # nobody listens upstream
        async with httpx.AsyncClient(verify=False, timeout=10) as http:
            r = await http.get(f"https://127.0.0.1:{tls}/board/demo?token={token}")
            assert r.status_code == 502
            r = await http.get(f"https://127.0.0.1:{tls}/ws?token={token}")
            assert r.status_code == 502
    logs = tmp_path / "nginx" / "logs"
    assert "502" in (logs / "access.log").read_text()
    for name in ("site-error.log", "error.log"):
        text = (logs / name).read_text() if (logs / name).exists() else ""
        assert token not in text and "token=" not in text, (name, text)
