"""Several bot processes behind one bot: Telegram webhooks served by two `moviebot run`
processes that share Redis give the same profile as one process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from bot.config import Settings
from bot.platforms import telegram_webhook
from core.index import MovieIndex
from core.models import UserRef
from core.stores.redis import RedisProfileStore
from core.taste import TasteSettings, replay_picks
from testing.local_redis import LOCAL_REDIS
from testing.redis_servers import free_port
from testing.telegram_api import FakeTelegram
from testing.waiting import wait_until

MOVIEBOT = str(Path(sys.executable).with_name("moviebot"))
TOKEN = "123456:TEST-token"
SECRET = "a secret of more than sixteen characters"
ALICE = 1001
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@contextmanager
def webhook_process(
    fake: FakeTelegram, index_dir: Path, prefix: str, port: int
) -> Iterator[subprocess.Popen[str]]:
    """`moviebot run` answering Telegram by webhook on ``port``."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MOVIEBOT_")},
        "MOVIEBOT_TELEGRAM_TOKEN": TOKEN,
        "MOVIEBOT_TELEGRAM_BASE_URL": f"{fake.url}/bot",
        "MOVIEBOT_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "MOVIEBOT_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
        "MOVIEBOT_TELEGRAM_WEBHOOK_PORT": str(port),
        "MOVIEBOT_SECRET": SECRET,
        "MOVIEBOT_INDEX_DIR": str(index_dir),
        "MOVIEBOT_REDIS_URL": LOCAL_REDIS,
        "MOVIEBOT_REDIS_PREFIX": prefix,
        "MOVIEBOT_METRICS_PORT": "0",
        "HF_HUB_OFFLINE": "1",
    }
    process = subprocess.Popen(
        [MOVIEBOT, "run", "--platform", "telegram"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # an unread pipe would block the process once full
        text=True,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def secret_token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MOVIEBOT_SECRET", SECRET)
    monkeypatch.setenv("MOVIEBOT_TELEGRAM_WEBHOOK_URL", "https://example.org/telegram")
    hook = telegram_webhook(Settings())
    assert hook is not None
    return hook.secret_token


async def test_two_webhook_processes_share_one_conversation(
    monkeypatch: pytest.MonkeyPatch,
    sample_index_dir: Path,
    sample_index: MovieIndex,
    redis_prefix: str,
) -> None:
    token = secret_token(monkeypatch)
    ports = [free_port(), free_port()]
    with (
        FakeTelegram() as fake,
        webhook_process(fake, sample_index_dir, redis_prefix, ports[0]),
        webhook_process(fake, sample_index_dir, redis_prefix, ports[1]),
    ):
        await wait_until(lambda: len(fake.calls("setWebhook")) == 2, 120)
        hooks = [f"http://127.0.0.1:{port}/telegram" for port in ports]

        async def deliver(update: dict[str, Any], process: int) -> None:
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    hooks[process], json=update, headers={SECRET_HEADER: token}
                )
            assert answer.status_code == 200

        fake.type_text(ALICE, "/search space adventure")
        await deliver(fake.take_updates()[0], 0)
        results = await wait_until(lambda: fake.last_message(ALICE))
        picks = [row[0]["callback_data"] for row in results["reply_markup"]["inline_keyboard"]]
        for number, data in enumerate(picks):
            fake.press(ALICE, results, data)
            (update,) = fake.take_updates()
            for process in (number % 2, 1 - number % 2):  # delivered twice, to both
                await deliver(update, process)
            answered = 2 * (number + 1)
            await wait_until(lambda n=answered: len(fake.calls("answerCallbackQuery")) >= n)

    store = RedisProfileStore.from_url(LOCAL_REDIS, prefix=redis_prefix)
    profile = await store.load(UserRef("telegram", str(ALICE)))
    counts = await store.pick_counts(list(profile.picked) if profile else [])
    await store.close()
    assert profile is not None and len(profile.picked) == len(picks) == 5
    assert counts == (1,) * 5
    expected = replay_picks(
        [sample_index.vector(i) for i in profile.picked], TasteSettings().ema_weight
    )
    np.testing.assert_allclose(profile.vector, expected, atol=1e-5)
    pressed = [movie_id(data) for data in picks]
    assert list(profile.picked) == pressed


def movie_id(data: str) -> Any:
    """The movie id of a pick button's payload (``1p<base 36>.…``)."""
    return int(data[2 : data.index(".")], 36)
