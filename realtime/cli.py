"""The ``switchboard`` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shlex
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from queueing.argtypes import whole
from realtime.auth import ROLES, load_secret, make_token
from realtime.logfilter import RedactTokens, uvicorn_log_config
from realtime.settings import Settings, from_env, to_env


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the server (and, by default, its own Redis)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.add_argument("--data-dir", help="where the embedded Redis keeps its data "
                                      "(default ./switchboard-data)")
    p.add_argument("--redis-url", help="use this Redis (redis://HOST:PORT/DB) and start none")
    p.add_argument("--workers", type=int, help="hub processes on the one port (default 1)")
    p.add_argument("--demo", action="store_true", default=None,
                   help="load the demo clinic and print the pages to open")
    p.add_argument("--log-level", choices=["debug", "info", "warning", "error"])


def _env_file_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env-file", metavar="FILE",
                   help="read SWITCHBOARD_* settings from FILE first, as the server's systemd "
                        "unit does (EnvironmentFile=, e.g. /etc/switchboard/env: root's, so "
                        "run with sudo); '-' reads them from stdin. Its values win over the "
                        "shell's")


def _token_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("token", help="print a signed bearer token")
    p.add_argument("role", choices=ROLES)
    p.add_argument("--site")
    p.add_argument("--counter")
    p.add_argument("--area", help="a display token for one waiting area of the site only "
                                  "(its board: /board/SITE?area=AREA)")
    p.add_argument("--ticket")
    p.add_argument("--booking", help="booking id (role booking)")
    p.add_argument("--channels", help="comma-separated channels a partner may book through")
    p.add_argument("--region", help="dispatch region (role dispatcher)")
    p.add_argument("--tech", help="technician id (role tech)")
    p.add_argument("--job", help="job id (role customer)")
    p.add_argument("--org", help="organisation id (role org)")
    p.add_argument("--subject", help="who the token is for (recorded in the audit log)")
    p.add_argument("--ttl-s", type=whole(1), default=None,
                   help="lifetime in seconds (default: SWITCHBOARD_DEVICE_TOKEN_TTL_S, a "
                        "year, for display, kiosk and partner, "
                        "SWITCHBOARD_STAFF_TOKEN_TTL_S (30 days) for agent, supervisor, "
                        "dispatcher, tech and org, SWITCHBOARD_TOKEN_TTL_S for the "
                        "others (customer: past its job's window end by that, when the "
                        "server is checked); at most SWITCHBOARD_MAX_TOKEN_TTL_S, five years "
                        "by default)")
    p.add_argument("--data-dir", help="data folder holding the generated secret")
    p.add_argument("--redis-url", help="the Redis the server uses, if not the embedded one "
                                       "(to check that --site, --counter, --region, --tech, "
                                       "--org and --job exist)")
    p.add_argument("--no-check", action="store_true",
                   help="mint without checking --site, --counter, --tech and --job against "
                        "the running server")
    p.add_argument("--force", action="store_true",
                   help="mint for a --site the running server does not have yet (refused "
                        "otherwise: a typo'd site opens nothing)")
    _env_file_option(p)
    # Only the printed link uses these (a dispatcher token's console link): the token itself
    # is the same whatever the server's address.
    p.add_argument("--port", type=int, help="the server's port, for the printed link "
                                            "(default: SWITCHBOARD_PORT, else 8000)")
    p.add_argument("--base-url", help="the address people reach the server at, for the "
                                      "printed link (default: SWITCHBOARD_PUBLIC_URL, else "
                                      "http://127.0.0.1:PORT)")


def _revoke_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("revoke", help="revoke one token, or every token of a subject, before "
                                      "it expires (the server need not be restarted)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--token", help="the token to revoke ('-' reads it from stdin, which "
                                      "keeps it out of the shell history)")
    what.add_argument("--subject", help="revoke every token of this subject issued up to now "
                                        "(e.g. kiosk:main, or a --subject given at minting)")
    what.add_argument("--list", action="store_true", help="print what is revoked")
    p.add_argument("--site", help="with --subject: that site's tokens of the subject only (a "
                                  "device name used at two sites is revoked at this one); "
                                  "without it, --subject revokes them at every site")
    p.add_argument("--data-dir", help="data folder of the running server's embedded Redis")
    p.add_argument("--redis-url", help="the Redis the server uses, if not the embedded one")
    _env_file_option(p)


def _worker_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("worker", help="run the arq worker (reminders, dispatch recomputes)")
    p.add_argument("--redis-url", help="the Redis the server uses (default: the embedded one "
                                       "in --data-dir)")
    p.add_argument("--data-dir", help="data folder of the embedded Redis")
    p.add_argument("--burst", action="store_true", help="run queued jobs, then exit")
    _env_file_option(p)


def _backup_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("backup", help="write the whole state (a consistent snapshot taken "
                                      "while serving) and the token secret to one file")
    p.add_argument("--out", required=True, help="archive to write (.tar.gz, mode 0600)")
    p.add_argument("--data-dir", help="data folder of the running server's embedded Redis")
    p.add_argument("--redis-url", help="back up this Redis instead of the embedded one")
    _env_file_option(p)
    p = sub.add_parser("restore", help="put a backup into a data folder (its server stopped; "
                                       "what it held is moved to before-restore-*/)")
    p.add_argument("archive", help="a file written by `switchboard backup`")
    p.add_argument("--data-dir", help="data folder to restore into "
                                      "(default ./switchboard-data)")
    p.add_argument("--keep-secret", action="store_true",
                   help="keep this folder's token secret (tokens minted from the backup's "
                        "secret stop working)")
    _env_file_option(p)


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="switchboard", description="Real-time queue and dispatch "
                                 "server.")
    ap.add_argument("--version", action=_Version, help="this binary's release and data "
                    "format, and the data's format when its Redis answers (SWITCHBOARD_DATA_DIR "
                    "or SWITCHBOARD_REDIS_URL)")
    sub = ap.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _token_parser(sub)
    _revoke_parser(sub)
    _worker_parser(sub)
    _backup_parsers(sub)
    sub.add_parser("loadtest", help="load scenarios (see `switchboard loadtest --help`)",
                   add_help=False)
    return ap


class _Version(argparse.Action):
    """``--version``: the release and its data format, then the stored data's, if reachable."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from realtime.dataformat import describe_binary
        print(describe_binary())
        stored = stored_format_line(from_env())
        if stored:
            print(stored)
        parser.exit()


def stored_format_line(settings: Settings) -> str | None:
    """The data's format as ``--version`` tells it (None: no data folder's Redis here)."""
    from queueing import redisconn
    from realtime.backup import safe_url
    from realtime.dataformat import read
    from realtime.worker import redis_url
    url = redis_url(settings)
    if url.startswith("unix://") and not Path(url[len("unix://"):]).exists():
        return None  # no server is running on this data folder

    async def look() -> str:
        redis = redisconn.connect(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            stored = await read(redis)
        finally:
            await redis.aclose()
        at = f" on {_utc(stored.written_at_ms / 1000)}" if stored.written_at_ms else ""
        return f"data at {safe_url(url)}: {stored.said()}{at}"
    try:
        return asyncio.run(look())
    except Exception as exc:  # not reachable, not this user's socket: say so, exit 0
        return f"data at {safe_url(url)}: format unknown ({type(exc).__name__}: {exc})"


def setup_logging(level: str | None = None) -> None:
    """Switchboard's own logs: --log-level / SWITCHBOARD_LOG_LEVEL like uvicorn's, with time,
    level and logger, tokens redacted. In the parent and in each process of ``--workers N``
    (``worker_app``): the children had uvicorn's loggers only, so their INFO lines (a revoked
    token's sockets closed, a ping timeout) vanished and warnings printed bare."""
    name = (level or os.environ.get("SWITCHBOARD_LOG_LEVEL") or "info").upper()
    logging.basicConfig(level=name if name in ("DEBUG", "INFO", "WARNING", "ERROR")
                        else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["loadtest"]:
        # The load generator has its own options per scenario (loadtest/cli.py).
        from loadtest.cli import main as loadtest_main
        return loadtest_main(argv[1:])
    args = parser().parse_args(argv)
    if getattr(args, "env_file", None):
        try:
            os.environ.update(read_env_file(args.env_file))
        except (OSError, ValueError) as exc:
            print(f"switchboard {args.command}: --env-file {args.env_file}: {exc}"
                  + (" (it is root's: run this command with sudo)"
                     if isinstance(exc, PermissionError) else ""), file=sys.stderr)
            return 2
    setup_logging(getattr(args, "log_level", None))
    if args.command == "token":
        return token(args)
    if args.command == "worker":
        return worker(args)
    if args.command == "revoke":
        return revoke(args)
    if args.command in ("backup", "restore"):
        return backup_or_restore(args)
    return serve(args)


def read_env_file(name: str) -> dict[str, str]:
    """``NAME=value`` lines as systemd's EnvironmentFile= reads them: blank lines and ``#``
    or ``;`` comments skipped, an optional ``export``, the value's enclosing quotes removed.
    ``-``: standard input (``sudo cat /etc/switchboard/env | sudo -u switchboard switchboard
    token ... --env-file -``)."""
    text = sys.stdin.read() if name == "-" else Path(name).read_text()
    found: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, eq, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not key.isidentifier():
            raise ValueError(f"line {n} is not NAME=value")
        if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[key] = value
    return found


def backup_or_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from realtime.backup import BackupError, backup, restore
    from realtime.redisproc import DataDirInUse
    from realtime.worker import redis_url
    settings = from_env(data_dir=args.data_dir, redis_url=getattr(args, "redis_url", None))
    name = f"switchboard {args.command}"
    try:
        if args.command == "backup":
            # The token secret goes in when there is a data folder: the embedded Redis's,
            # or one given beside an external Redis (--data-dir or SWITCHBOARD_DATA_DIR: the
            # variable alone left the secret out, and every device link with it).
            given = args.data_dir or os.environ.get("SWITCHBOARD_DATA_DIR")
            folder = settings.data_path if (given or not settings.redis_url) else None
            m = backup(Path(args.out), redis_url(settings), folder, settings.redis_server)
            secret = "included" if m["secret"] else "not included"
            print(f"{name}: {args.out} ({m['rdb_bytes']:,} bytes of data, about "
                  f"{m['keys_at_start']:,} keys, secret {secret})")
            if not m["secret"]:
                if settings.secret:
                    where = "it comes from SWITCHBOARD_SECRET"
                elif folder is not None:
                    # The folder was given (it was told to give it): the server there takes
                    # its key from SWITCHBOARD_SECRET, which this shell has not.
                    where = (f"{folder} has none: the server takes it from SWITCHBOARD_SECRET "
                             "in its own environment")
                else:
                    where = "give the server's data folder (--data-dir) to include it"
                print(f"{name}: the token secret is not in the archive ({where}): keep it "
                      "with the backups, or every link and device token stops working after "
                      "a restore", file=sys.stderr)
            return 0
        if settings.redis_url:
            print(f"{name}: restores into a data folder (--data-dir); for an external Redis "
                  "use its own tools (load dump.rdb from the archive)", file=sys.stderr)
            return 2
        r = restore(Path(args.archive), settings.data_path, settings.redis_server,
                    keep_secret=args.keep_secret)
        folder_secret = (settings.data_path / "secret").is_file()
        print(f"{name}: {r.keys:,} keys into {settings.data_path}"
              + (f"; what it held is in {r.moved_to}" if r.moved_to else "")
              + _restored_secret(r.secret, r.archive_secret, folder_secret)
              + ". Start the server: switchboard serve --data-dir " + str(settings.data_path))
        if not folder_secret and not settings.secret:
            why = ("--keep-secret left out the backup's; restore without it to use that one"
                   if r.archive_secret else "the backed-up server took its key from "
                   "SWITCHBOARD_SECRET: start this one with that same SWITCHBOARD_SECRET")
            print(f"{name}: WARNING / 警告: {settings.data_path} has no token secret ({why}). "
                  "Started without one, the server makes a new key and every link, kiosk, "
                  "display and staff token minted before stops working / 该目录没有令牌密钥："
                  "请用原服务器相同的 SWITCHBOARD_SECRET 启动，否则服务器将生成新密钥，之前的所有"
                  "链接和设备令牌都会失效", file=sys.stderr)
        return 0
    except DataDirInUse as exc:
        print(f"{name}: {str(exc.code).removeprefix('switchboard: ')}", file=sys.stderr)
        return 1
    except BackupError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1


def _restored_secret(restored: bool, in_archive: bool, in_folder: bool) -> str:
    """What a restore did with the token secret, as it is now in the folder."""
    if restored:
        return "; token secret restored"
    if not in_folder:
        return "; no token secret in the backup or in this folder"
    return "; this folder's token secret kept" + ("" if in_archive else
                                                  " (the backup has none)")


def worker(args: argparse.Namespace) -> int:
    if args.redis_url:
        os.environ["SWITCHBOARD_REDIS_URL"] = args.redis_url
    if args.data_dir:
        os.environ["SWITCHBOARD_DATA_DIR"] = args.data_dir
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from realtime import worker as settings_module
    from realtime.dataformat import newer_refusal, waiting_message
    from realtime.errors import busy_reason, write_refusal
    log = logging.getLogger("switchboard.worker")
    memory_diagnostics()
    url = settings_module.redis_url()
    delay = 1.0
    waiting = False  # for a server of this release to migrate the data (dataformat.py)
    while True:
        if not waiting:
            log.info("worker: Redis at %s", url)
        started = time.monotonic()
        loop = worker_loop()
        asyncio.set_event_loop(loop)  # arq takes the current loop
        ctx: dict[str, Any] = {}
        try:
            # On every (re)connection: an upgraded server restarts its Redis under the worker.
            verdict, stored = loop.run_until_complete(_worker_format(url))
            if verdict == "refuse":
                print(newer_refusal(stored, "worker"), file=sys.stderr)
                return 2
            if verdict is None:
                arq_worker = quiet_worker(settings_module.WorkerSettings, args.burst)
                ctx = arq_worker.ctx
                arq_worker.run()
                return 0
            if args.burst:
                print(f"switchboard {waiting_message(stored)}", file=sys.stderr)
                return 1
            if not waiting:
                log.warning(waiting_message(stored))
            waiting = True
        except KeyboardInterrupt:  # Ctrl-C while it was still connecting
            return 0
        except (RedisConnectionError, RedisTimeoutError, OSError, ResponseError) as exc:
            # The server's Redis went away (a restart of `serve`, which stops its embedded
            # Redis) or is not up yet, or answers "not now" (BUSY: a script over 5 s;
            # LOADING) or refuses writes (a full disk): wait for it rather than leave the
            # site without reminders, offers and recomputes until someone notices. Any
            # other error reply is a bug: it ends the process, with its traceback.
            why = ((busy_reason(exc) or write_refusal(exc)) if isinstance(exc, ResponseError)
                   else "unreachable")
            if why is None:
                raise
            state = "is unreachable" if why == "unreachable" else f"answers {why}"
            if args.burst:
                print(f"switchboard worker: Redis at {url} {state}: {exc}", file=sys.stderr)
                return 1
            if time.monotonic() - started > 60:
                delay = 1.0  # it had been running: start the backoff again
            log.warning("worker: Redis at %s %s (%s); retrying in %.0f s", url, state, exc,
                        delay)
            waiting = False
        finally:
            settle(loop, settings_module.stop_quietly(ctx))
            loop.close()
            stop_on_signals()
        try:
            time.sleep(FORMAT_POLL_S if waiting else delay)
        except KeyboardInterrupt:
            return 0
        if not waiting:
            delay = min(delay * 2, 30.0)


# How often a worker looks again while the data waits for its server's migration (s).
FORMAT_POLL_S = 5.0


def stop_on_signals() -> None:
    """Ctrl-C or SIGTERM while the worker waits for Redis ends it (KeyboardInterrupt). The
    closed uvloop loop kept arq's handlers, which swallowed both: `systemctl stop` during a
    Redis outage waited for its SIGKILL. The next attempt's arq installs its own again."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.default_int_handler)


def quiet_worker(settings_cls: Any, burst: bool) -> Any:
    """arq's Worker (as ``arq.worker.create_worker`` makes it), whose ``close`` lets Redis
    fail under it: when the run ended because Redis failed (down, or BUSY with a long
    script), arq's close met the same failure at its first command and raised that
    instead, which ended the process for good (BUSY is no ConnectionError). The run's own
    error now reaches the retry loop, and a stop asked for (SIGTERM) still ends it; the
    shutdown steps close skipped run in ``settle``. The class is made here: only the worker
    imports arq."""
    from arq.worker import Worker, get_kwargs
    from redis.exceptions import RedisError

    class QuietClose(Worker):
        async def close(self) -> None:
            try:
                await super().close()
            except (RedisError, OSError) as exc:
                logging.getLogger("switchboard.worker").info(
                    "worker: Redis failed while arq closed (%s)", exc)
                pool, self._pool = self._pool, None
                if pool is not None:
                    with contextlib.suppress(Exception):
                        await pool.aclose(close_connection_pool=True)

    kwargs: dict[str, Any] = {**get_kwargs(settings_cls), "burst": burst}
    return QuietClose(**kwargs)


def settle(loop: asyncio.AbstractEventLoop, shutdown: Awaitable[None]) -> None:
    """Before the worker's loop is closed: its shutdown steps (arq skips them when Redis
    failed under it), then every task still pending cancelled and awaited. A loop closed
    over pending tasks logged "Task was destroyed but it is pending!" at ERROR for each,
    once per earlier Redis restart, when the worker was stopped."""
    loop.run_until_complete(shutdown)
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in pending:
        t.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())


def worker_loop() -> asyncio.AbstractEventLoop:
    """The worker's event loop: uvloop's, as the server's (uvicorn picks it), where it is
    installed (uvicorn[standard] brings it on Linux). asyncio's own loop reads each socket
    into a fresh 256 KiB buffer; in the worker that left glibc's heap growing by free space,
    +1.8 MB/h over a 150-minute soak (docs/benchmarks.md, "Soak"; realtime/heap.py trims it
    as well)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - not on Windows, or without uvicorn[standard]
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def token(args: argparse.Namespace) -> int:
    if args.role == "supervisor" and not args.subject:
        # Revoked by subject when a laptop is lost: one default (supervisor:<site>) for every
        # head nurse would revoke them all.
        print("switchboard token: a supervisor token needs --subject NAME (one per person, "
              "so one can be revoked alone)", file=sys.stderr)
        return 2
    if args.role == "partner" and not args.subject:
        # A partner's bookings and Idempotency-Keys are its subject's: two partners given
        # the default subject (partner:<site>) would share them, and cancel each other's.
        print("switchboard token: a partner token needs --subject NAME (one per partner: "
              "its bookings and idempotency keys are its own)", file=sys.stderr)
        return 2
    scoped = [f"--{f}" for f in SCOPE_FLAGS if getattr(args, f)]
    if args.role == "admin" and scoped:
        # An admin token opens every site and region whatever it names: a "clinic-east
        # admin" minted with --site controlled them all.
        print(f"switchboard token: an admin token is not scoped ({' '.join(scoped)} would be "
              "ignored): it controls every site and region of this server. For one site's "
              "manager mint a supervisor token (--site SITE --subject NAME: reads the site, "
              "changes nothing); leave the option out for a group-wide admin / 管理员令牌对"
              "所有站点有效，不能限定站点", file=sys.stderr)
        return 2
    settings = from_env(data_dir=args.data_dir, port=args.port, public_url=args.base_url)
    if args.ttl_s is not None and args.ttl_s > settings.max_token_ttl_s:
        # The server would refuse it: a subject's revocation is only kept that long.
        print(f"switchboard token: --ttl-s {args.ttl_s} is longer than the server accepts "
              f"(SWITCHBOARD_MAX_TOKEN_TTL_S, {settings.max_token_ttl_s} s)", file=sys.stderr)
        return 2
    secret = load_secret(settings.secret, settings.data_path, create=False)
    refused = _malformed_dispatch_id(args)
    if refused is None and _checked(args) and not args.no_check:
        refused = _check_server(args, settings)
    if refused:
        print(f"switchboard token: {refused}", file=sys.stderr)
        return 2
    try:
        channels = [c.strip() for c in args.channels.split(",")] if args.channels else None
        tok = make_token(secret, args.role, site=args.site, counter=args.counter,
                         ticket=args.ticket, booking=args.booking, channels=channels,
                         region=args.region, tech=args.tech, job=args.job, org=args.org,
                         subject=args.subject, area=args.area,
                         ttl_s=args.ttl_s or _default_ttl(args.role, settings))
    except ValueError as exc:
        print(f"switchboard token: {exc}", file=sys.stderr)
        return 2
    print(tok)
    # On stderr (the token stays alone on stdout): a token that stops by itself a month
    # after go-live must not be a surprise.
    print(f"switchboard token: {expiry_note(tok)}", file=sys.stderr)
    _register(args, settings, tok)
    if args.role == "dispatcher" and args.region:
        # Where the token is used (stderr: `D=$(switchboard token dispatcher …)` keeps the
        # token alone).
        print(f"console / 调度台: {server_base(settings)}/dispatch/{args.region}?token={tok}",
              file=sys.stderr)
    return 0


def _register(args: argparse.Namespace, settings: Settings, tok: str) -> None:
    """Keep the token in the server's registry of issued links (GET /v1/tokens), as the
    server's check reaches it (--redis-url, else the embedded Redis of --data-dir); an
    unreachable server is said, not fatal: the token works, it is only not listed."""
    import getpass

    from redis.exceptions import RedisError

    from queueing import redisconn
    from realtime import token_registry
    from realtime.worker import redis_url

    if getattr(args, "unreachable", False):
        return
    url = redis_url(settings) if args.redis_url is None else args.redis_url

    async def run() -> None:
        redis = redisconn.connect(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await token_registry.record(redis, tok, f"cli:{getpass.getuser()}")
        finally:
            await redis.aclose()

    try:
        asyncio.run(run())
    except (ValueError, RedisError, OSError, KeyError) as exc:
        print(f"switchboard token: not in the server's list of issued links ({exc}); give "
              "--redis-url to list it", file=sys.stderr)


def expiry_note(tok: str) -> str:
    """When a minted token stops working, in UTC, and its lifetime."""
    import datetime

    import jwt
    claims = jwt.decode(tok, options={"verify_signature": False})
    exp, ttl = float(claims["exp"]), float(claims["exp"]) - float(claims["iat"])
    when = datetime.datetime.fromtimestamp(exp, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    span = f"{ttl / 86400:.0f} days" if ttl >= 86400 else f"{ttl:.0f} s"
    return (f"expires {when} (in {span}; mint a new one before then, or give --ttl-s) / "
            f"有效期至 {when}")


# What a token names that the running server is asked about (by this flag).
DISPATCH_FLAGS = ("region", "tech", "org", "job")
# What scopes a token (an admin token has none of them).
SCOPE_FLAGS = ("site", "counter", "area", "ticket", "booking", "channels", *DISPATCH_FLAGS)
_NOUNS = {"region": "region", "tech": "technician", "org": "organisation", "job": "job"}


def _checked(args: argparse.Namespace) -> bool:
    return bool(args.site) or any(getattr(args, f) for f in DISPATCH_FLAGS)


def _malformed_dispatch_id(args: argparse.Namespace) -> str | None:
    """A technician, organisation or job id without its region (``t01``, not ``city.t01``)
    names nothing on any server: refused, --no-check or not."""
    from dispatch import keys
    if args.region and not keys.IDENT.fullmatch(args.region):
        return f"--region {args.region!r}: region ids are 1-64 letters, digits, '_' or '-'"
    for flag in ("tech", "org", "job"):
        some_id = getattr(args, flag)
        if some_id and not (keys.region_of(some_id) and keys.valid_id(some_id)):
            return (f"--{flag} {some_id!r} is no {_NOUNS[flag]} id: ids carry their region, "
                    f"<region>.<id> (e.g. city.{some_id.rpartition('.')[2] or 't01'})")
    return None


def _utc(epoch_s: float) -> str:
    """An epoch time as operators read it: ``2026-12-07 18:45:57 UTC``."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch_s))


def _check_server(args: argparse.Namespace, settings: Settings) -> str | None:
    """Why the token would open nothing on the running server (refused, rc 2), after
    warning on stderr about what may be put later; an unreachable server checks nothing.

    Refused: a counter its site does not have (a typo'd console link only says "no such
    counter" on the day), a technician or a job the server does not have (a wristband
    would be refused on its first fix; a job's id is made by the server, so an unknown one
    is a typo, never one to come). Warned: a site, a region or an organisation not put yet
    (screens, a dispatcher's console and an enterprise's dashboard are often provisioned
    before it is). A customer token without --ttl-s gets its job's lifetime here."""
    from redis.exceptions import RedisError

    from queueing import redisconn
    from realtime.worker import redis_url

    url = redis_url(settings) if args.redis_url is None else args.redis_url

    async def run() -> str | None:
        redis = redisconn.connect(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return (await _site_refusal(args, redis)
                    or await _dispatch_refusal(args, redis, settings))
        finally:
            await redis.aclose()

    try:
        return asyncio.run(run())
    except ValueError as exc:  # not a Redis URL
        return f"--redis-url: {exc}"
    except (RedisError, OSError) as exc:
        # No server running here, or its Redis elsewhere: nothing to check against. Said,
        # not silent: a typo'd --counter minted with exit status 0 only showed on the day.
        print(f"switchboard token: not checked against the server ({url} is unreachable: "
              f"{exc}), nor kept in its list of issued links; check --site/--counter/--region "
              "yourself, or give --redis-url", file=sys.stderr)
        args.unreachable = True  # said once: _register does not try again
        return None


async def _unknown_site(site: str, redis: Any) -> str:
    """A site the server does not have: refused with its sites and the closest one (a
    typo'd kiosk token minted with exit status 0 opened nothing on the day)."""
    import difflib

    from queueing import keys
    sites = sorted(s.decode() if isinstance(s, bytes) else str(s)
                   for s in await redis.smembers(keys.SITES))
    close = difflib.get_close_matches(site, sites, n=1)
    return (f"the server has no site {site!r} ("
            + (f"its sites: {', '.join(sites)}" if sites else "it has no sites yet")
            + (f"; did you mean {close[0]!r}?" if close else "")
            + "); --force mints it for a site to be put later")


def _warn(what: str) -> None:
    print(f"switchboard token: warning: the server has no {what} yet (the token opens "
          "nothing until it is put)", file=sys.stderr)


async def _site_refusal(args: argparse.Namespace, redis: Any) -> str | None:
    from queueing.engine import Engine
    from queueing.errors import UnknownSite
    from queueing.store import Store
    if not args.site:
        return None
    try:
        cfg = await Engine(Store(redis)).config(args.site)
    except UnknownSite:
        if args.force:
            _warn(f"site {args.site!r}")
            return None
        return await _unknown_site(args.site, redis)
    if args.counter and cfg.counter(args.counter) is None:
        ids = ", ".join(c.id for c in cfg.counters) or "none"
        return (f"site {args.site!r} has no counter {args.counter!r} (its counters: "
                f"{ids}); --no-check mints it anyway")
    if args.area and all(a.id != args.area for a in cfg.areas):
        ids = ", ".join(a.id for a in cfg.areas) or "none"
        return (f"site {args.site!r} has no waiting area {args.area!r} (its areas: "
                f"{ids}); --no-check mints it anyway")
    return None


async def _dispatch_refusal(args: argparse.Namespace, redis: Any, settings: Settings
                            ) -> str | None:
    from dispatch.engine import DispatchEngine
    from dispatch.errors import NotFound
    from dispatch.store import Store
    eng = DispatchEngine(Store(redis))
    lookups: dict[str, Callable[[str], Awaitable[Any]]] = {
        "region": eng.config, "tech": eng.tech_record, "org": eng.org, "job": eng.job}
    for flag in DISPATCH_FLAGS:
        some_id = getattr(args, flag)
        if not some_id:
            continue
        try:
            found = await lookups[flag](some_id)
        except NotFound:
            what = f"{_NOUNS[flag]} {some_id!r}"
            if flag in ("region", "org"):
                _warn(what)
                continue
            return f"the server has no {what}; --no-check mints it anyway"
        if flag == "job" and args.role == "customer" and args.ttl_s is None:
            # As the link the job's creation answered: to the window's end + token_ttl_s
            # (a day alone expired before tomorrow's visit).
            from realtime.dispatch_api import customer_ttl_s
            end_ms = (found.get("window") or {}).get("end_ms")
            args.ttl_s = min(customer_ttl_s(settings, end_ms, eng.clock()),
                             settings.max_token_ttl_s)
    return None


def revoke(args: argparse.Namespace) -> int:
    import json

    from redis.exceptions import RedisError

    from queueing import redisconn
    from queueing.errors import SwitchboardError
    from realtime.backup import safe_url
    from realtime.revocation import Revocations
    from realtime.revocation_api import RevokeBody
    from realtime.revocation_api import revoke as apply
    from realtime.worker import redis_url
    settings = from_env(data_dir=args.data_dir, redis_url=args.redis_url)
    if args.site and not args.subject:
        print("switchboard revoke: --site goes with --subject (a --token is one token "
              "already)", file=sys.stderr)
        return 2
    token = sys.stdin.read().strip() if args.token == "-" else args.token
    secret = "" if args.list else load_secret(settings.secret, settings.data_path, create=False)

    async def run() -> int:
        redis = redisconn.connect(redis_url(settings))
        try:
            lists = Revocations()
            await lists.load(redis)
            if args.list:
                # With each time also as a readable UTC time beside the epoch seconds.
                listing: Any = lists.listing()
                for row in [*listing["tokens"], *listing["subjects"],
                            *listing["site_subjects"]]:
                    for k in ("expires", "before"):
                        if k in row:
                            row[k + "_utc"] = _utc(float(row[k]))
                print(json.dumps(listing, indent=2))
                return 0
            done = await apply(lists, redis, secret, RevokeBody(
                token=token or None, subject=args.subject, site=args.site or None))
        finally:
            await redis.aclose()
        where = f" at site {done.site}" if done.site else ""
        what = (f"token {done.token_id} of {done.subject}" if done.kind == "token" else
                f"every token of {done.subject}{where} issued up to "
                f"{_utc(float(done.as_dict()['before']))}")  # type: ignore[arg-type]
        print(f"switchboard revoke: revoked {what}; servers refuse it now and close its "
              "websockets")
        return 0

    try:
        return asyncio.run(run())
    except SwitchboardError as exc:
        print(f"switchboard revoke: {exc.message}", file=sys.stderr)
        return 2
    except (RedisError, OSError) as exc:
        print(f"switchboard revoke: cannot reach Redis at {safe_url(redis_url(settings))} "
              f"({exc}); is the server running (or give --redis-url)?", file=sys.stderr)
        return 1


# Roles whose tokens live on a workstation or a device for weeks (a counter console, a
# supervisor's overview, a dispatcher's screen, a wristband, an enterprise dashboard).
STAFF_ROLES = ("agent", "supervisor", "dispatcher", "tech", "org")
# Tokens set up once in a machine nobody watches: a screen on a wall, a kiosk, and an
# integration (an SMS gateway's adapter, the public booking page, a partner's back end). A
# month's default stopped text-to-join and online booking a month after go-live.
DEVICE_ROLES = ("display", "kiosk", "partner")


def _default_ttl(role: str, settings: Settings) -> int:
    if role in DEVICE_ROLES:
        return settings.device_token_ttl_s
    if role in STAFF_ROLES:
        return settings.staff_token_ttl_s
    return settings.token_ttl_s


def serve(args: argparse.Namespace) -> int:
    settings = from_env(host=args.host, port=args.port, data_dir=args.data_dir,
                        redis_url=args.redis_url, workers=args.workers, demo=args.demo,
                        log_level=args.log_level)
    from realtime.redisproc import EmbeddedRedis

    if settings.demo and settings.host not in ("127.0.0.1", "localhost", "::1"):
        # The demo's home page hands out agent, dispatcher, technician and customer tokens
        # to whoever opens it: on a hospital network that is everyone.
        print(f"switchboard serve: --demo publishes staff tokens on its home page; it "
              f"listens on this machine only (not --host {settings.host})", file=sys.stderr)
        return 2
    # The key first: a bad one stops here, before a Redis is started.
    env_secret = bool(settings.secret)
    settings = msgspec.structs.replace(
        settings, secret=load_secret(settings.secret, settings.data_path))
    embedded = None
    gave_up: list[bool] = []
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.data_path, settings.redis_server, settings.redis_fsync)
        url = embedded.start()
        # Restarted if it dies under the running server; a crash loop stops the server,
        # which then exits 1 (a failure, for systemd's Restart=on-failure and OnFailure=).
        def give_up() -> None:
            gave_up.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        embedded.supervise(give_up)
        logging.getLogger("switchboard").info("embedded Redis at %s (data in %s)", url,
                                              settings.data_path)
        settings = msgspec.structs.replace(settings, redis_url=url)
    watching: Any = None
    try:
        refusal = asyncio.run(_stamp_format(settings))
        if refusal:
            print(refusal, file=sys.stderr)
            return 2
        if settings.demo:
            # The demo's welcome prints the worker's command (realtime.demo.next_commands).
            from realtime.demo import load_demo, print_welcome
            pages = asyncio.run(load_demo(settings))
            print_welcome(settings, pages)
        else:
            from realtime.readiness import start_worker_watch, worker_missing
            has_site = asyncio.run(_start_real(settings))
            no_worker = worker_missing(asyncio.run(_worker_seen(settings)))
            lines = ([] if has_site else [next_step(settings, env_secret)]) + (
                [worker_step(settings)] if no_worker else [])
            if lines:
                print("\n".join(lines), flush=True)
            watching = start_worker_watch(settings.redis_url or "", worker_command(settings))
        _run_uvicorn(settings)
    finally:
        if watching is not None:
            watching.set()
        if embedded is not None:
            embedded.stop()
    if gave_up:
        print("switchboard serve: stopped because its embedded Redis kept exiting; see "
              f"{settings.data_path / 'redis.log'}", file=sys.stderr)
        return 1
    return 0


async def _stamp_format(settings: Settings) -> str | None:
    """The data's format (realtime/dataformat.py), before anything else writes: this build's
    migrations and stamp, or the refusal of a binary older than its data."""
    from realtime.app import connect
    from realtime.dataformat import stamp
    redis = connect(settings.redis_url or "")
    try:
        return (await stamp(redis))[1]
    finally:
        await redis.aclose()


async def _worker_format(url: str) -> tuple[str | None, Any]:
    """The worker's look at the data's format: ``dataformat.worker_verdict`` and what is
    stored."""
    from queueing import redisconn
    from realtime.dataformat import read, worker_verdict
    redis = redisconn.connect(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        stored = await read(redis)
    finally:
        await redis.aclose()
    return worker_verdict(stored), stored


async def _start_real(settings: Settings) -> bool:
    """Forget the demo's flag (realtime.demo.forget_demo); True when a site exists, so the
    set-up hint is printed to a new server only (not after every restart or a restore)."""
    from queueing import keys
    from realtime.app import connect
    from realtime.demo import forget_demo
    await forget_demo(settings)
    redis = connect(settings.redis_url or "")
    try:
        return bool(await redis.scard(keys.SITES))  # type: ignore[misc]
    finally:
        await redis.aclose()


async def _worker_seen(settings: Settings) -> float | None:
    """Seconds since a worker of this server's Redis last beat (None: none is running)."""
    from realtime.app import connect
    from realtime.readiness import worker_seen_s
    redis = connect(settings.redis_url or "")
    try:
        return await worker_seen_s(redis)
    finally:
        await redis.aclose()


def server_base(settings: Settings) -> str:
    """The address people reach this server at: SWITCHBOARD_PUBLIC_URL, else its own."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = settings.host
    host = "SERVER" if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}"


def _where(settings: Settings) -> str:
    """The options that point a command (token, worker) at this server's data and Redis."""
    data = "" if settings.data_dir == Settings().data_dir \
        else f" --data-dir {shlex.quote(str(settings.data_path))}"
    embedded = f"unix://{settings.data_path / 'redis.sock'}"
    if settings.redis_url and settings.redis_url != embedded:
        from realtime.backup import safe_url
        data += f" --redis-url {shlex.quote(safe_url(settings.redis_url))}"
    return data


def next_step(settings: Settings, env_secret: bool = False) -> str:
    """A real server's line after start-up: how to get an admin token and open the set-up
    page (the front page says the same). ``env_secret``: the key came from SWITCHBOARD_SECRET,
    which the admin's shell lacks (a systemd unit's EnvironmentFile): the command is given
    the file, or it stopped with "no SWITCHBOARD_SECRET" beside a running server."""
    base = server_base(settings)
    env = (" --env-file FILE-THAT-SETS-SWITCHBOARD_SECRET (e.g. sudo ... --env-file "
           "/etc/switchboard/env: this server's key is in its environment / 本服务器的密钥"
           "来自环境变量)" if env_secret else "")
    return (f"Next / 下一步: switchboard token admin --subject YOUR-NAME{_where(settings)}"
            f"{env}, then open / 然后打开 {base}/setup/SITE and paste the token / 粘贴令牌 "
            "(docs/deployment.md)")


def worker_command(settings: Settings) -> str:
    return f"switchboard worker{_where(settings)}"


def worker_step(settings: Settings) -> str:
    """The start-up line while no worker runs with this server (readiness.WorkerWatch logs
    it later too): the hub serves without one, but nothing closes the day or sends."""
    return (f"Worker / 后台任务: none is running with this server: start "
            f"`{worker_command(settings)}` beside it (systemd: docs/deploy/"
            "switchboard-worker.service); day close, "
            "reminders, texts and dispatch offers need it / 未检测到 worker：日终关闭、提醒、"
            "短信与派单都需要它，请同时运行")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How ``serve`` runs uvicorn (the tests' in-process servers use the same)."""
    return {"host": settings.host, "port": settings.port, "log_level": settings.log_level,
            "log_config": uvicorn_log_config(),  # tokens in URLs are not logged
            # Oversize frames are answered by the hub (frame_too_large), not cut off here.
            "ws_max_size": max(1 << 20, 4 * settings.ws_max_frame_bytes),
            "ws_ping_interval": settings.ws_ping_interval_s,
            "ws_ping_timeout": settings.ws_ping_timeout_s,
            # One frame is encoded once and sent to thousands of screens: per-connection
            # compression would redo the work for each and make frames unshareable.
            "ws_per_message_deflate": False,
            # uvicorn's sans-I/O websocket protocol with a lighter receive queue and
            # writable flag: ~4 KB less per idle connection (docs/loadtest-report.md).
            "ws": "realtime.ws:SlimWebSocketsProtocol",
            # httptools with a deadline for each request's headers (slowloris); the
            # deadline is SWITCHBOARD_HTTP_READ_TIMEOUT_S, set by create_app.
            "http": "realtime.httpproto:HeaderTimeoutProtocol",
            "proxy_headers": bool(settings.trusted_proxies),
            "forwarded_allow_ips": ",".join(settings.trusted_proxies) or None,
            "server_header": False, "timeout_graceful_shutdown": 5}


def memory_diagnostics() -> bool:
    """Off by default. ``SWITCHBOARD_TRACEMALLOC=N`` starts tracemalloc keeping N frames per
    allocation, and SIGUSR2 then writes a snapshot (``tracemalloc-PID-TIME.pickle``, for
    ``tracemalloc.Snapshot.load``) and the live objects counted by type
    (``gc-types-PID-TIME.json``) into ``SWITCHBOARD_TRACEMALLOC_DIR`` (default the system's
    temporary folder). Only whoever may signal the process can ask; nothing is served.
    Called by each server process before it builds its app, and by the worker; True when
    it is on."""
    import threading
    frames = os.environ.get("SWITCHBOARD_TRACEMALLOC", "").strip()
    if not frames or frames == "0" or threading.current_thread() is not threading.main_thread():
        return False
    import tracemalloc
    if not tracemalloc.is_tracing():
        tracemalloc.start(max(1, int(frames)))

    def dump(signum: int, frame: Any) -> None:
        import gc
        import json
        import tempfile
        from collections import Counter
        from pathlib import Path
        folder = Path(os.environ.get("SWITCHBOARD_TRACEMALLOC_DIR") or tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{os.getpid()}-{time.time_ns() // 1_000_000}"
        types = Counter(type(o).__name__ for o in gc.get_objects())
        (folder / f"gc-types-{stem}.json").write_text(json.dumps(
            {"time": time.time(), "blocks": sys.getallocatedblocks(),
             "types": dict(types.most_common())}))
        tracemalloc.take_snapshot().dump(str(folder / f"tracemalloc-{stem}.pickle"))
        logging.getLogger("switchboard").warning("memory snapshot %s written to %s", stem,
                                                 folder)

    signal.signal(signal.SIGUSR2, dump)
    return True


def _run_uvicorn(settings: Settings) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # uvicorn re-raises SIGTERM/SIGINT after shutting down, which would kill this
            # process before it stops the embedded Redis: stop in order and exit 0 instead.
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    common = uvicorn_options(settings)
    if settings.workers == 1:
        from realtime.app import create_app
        memory_diagnostics()
        Server(uvicorn.Config(create_app(settings), **common)).run()
        return
    # Workers are separate processes: hand them the settings through the environment, with
    # the log level this process runs at and one metrics folder for all of them.
    os.environ.update(to_env(settings))
    os.environ["SWITCHBOARD_LOG_LEVEL"] = logging.getLevelName(
        logging.getLogger().getEffectiveLevel()).lower()
    multiprocess_metrics(settings)
    uvicorn.run("realtime.cli:worker_app", factory=True, workers=settings.workers,
                **common)


def multiprocess_metrics(settings: Settings) -> Path:
    """``PROMETHEUS_MULTIPROC_DIR`` for ``--workers N`` (unless set already): a folder in
    the data folder, emptied at start (the last run's files would add to this one's). Without
    it each scrape of /metrics answered from one process picked at random: a 5xx counter read
    219, 220, 221, 23, 222 and every rate alert went blind."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    folder = Path(given) if given else settings.data_path / "prometheus"
    folder.mkdir(parents=True, exist_ok=True)
    if not given:
        for old in folder.glob("*.db"):
            old.unlink()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def worker_app() -> Any:
    """Factory for uvicorn's worker processes: ``realtime.app.app_from_env``, with logging
    as in the parent (``setup_logging``) and the memory diagnostics each process starts when
    asked (``memory_diagnostics``)."""
    from realtime.app import app_from_env
    setup_logging()
    memory_diagnostics()
    return app_from_env()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
