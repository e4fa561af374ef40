"""`moviebot run` for Telegram as a process of its own, answering the Bot API stand-in:
started, killed and restarted as an operator or a crash would, its memory watched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from testing.discord_api import TOKEN as DISCORD_TOKEN
from testing.discord_api import FakeDiscord
from testing.redis_servers import free_port

MOVIEBOT = str(Path(sys.executable).with_name("moviebot"))
TOKEN = "123456:TEST-token"
SECRET = "a secret of more than sixteen characters"
READY_SECONDS = 120.0
REPOSITORY = Path(__file__).resolve().parents[1]


class BotProcess:
    """One bot process; ``settings`` are extra ``MOVIEBOT_*`` variables. Without
    ``MOVIEBOT_REDIS_URL`` among them, its profiles live in the embedded Redis of a
    ``data`` folder beside ``log``. Given a Discord stand-in, it serves Discord too."""

    def __init__(
        self, telegram_url: str, log: Path, discord: FakeDiscord | None = None, **settings: str
    ) -> None:
        self.metrics_port = free_port()
        self.log = log
        self.exit_seconds: float | None = None
        """How long the last ``stop`` took from SIGTERM to the exit."""
        self._command = [MOVIEBOT, "run", "--platform", "telegram"]
        if discord is not None:
            launcher = [sys.executable, "-m", "testing.stand_in_bot"]
            self._command = [*launcher, discord.api_base, discord.gateway_url, "run"]
            settings = {"MOVIEBOT_DISCORD_TOKEN": DISCORD_TOKEN, **settings}
        self._environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MOVIEBOT_")},
            "MOVIEBOT_TELEGRAM_TOKEN": TOKEN,
            "MOVIEBOT_TELEGRAM_BASE_URL": f"{telegram_url}/bot",
            "MOVIEBOT_SECRET": SECRET,
            "MOVIEBOT_METRICS_PORT": str(self.metrics_port),
            "MOVIEBOT_PUSH_ENABLED": "false",
            "MOVIEBOT_DATA_DIR": str(log.parent / "data"),
            "HF_HUB_OFFLINE": "1",
            **settings,
        }
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BotProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: tuple[type[BaseException], BaseException, TracebackType]) -> None:
        self.stop()

    def start(self) -> None:
        """Start the bot and wait until it says it is ready (``/readyz``)."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                self._command,
                cwd=REPOSITORY,
                env=self._environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_SECONDS
        while not self.ready():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not become ready: see {self.log}")
            time.sleep(0.2)

    def ready(self) -> bool:
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.metrics_port}/readyz", timeout=2)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def peak_memory_mib(self) -> float:
        """The process's peak resident memory so far (VmHWM), in MiB."""
        assert self._process is not None
        status = Path(f"/proc/{self._process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def memory_mib(self) -> float:
        """The process's resident memory now (VmRSS), in MiB."""
        assert self._process is not None
        status = Path(f"/proc/{self._process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024

    def cpu_seconds(self) -> float:
        """User and system CPU time the process has used so far."""
        assert self._process is not None
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would."""
        assert self._process is not None
        self._process.kill()
        self._process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait, as an orderly shutdown."""
        if self.running:
            assert self._process is not None
            self._process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
            self.exit_seconds = time.monotonic() - signalled
