"""The README documents every setting."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings

from bot.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def environment_names() -> list[str]:
    names = []
    for section in Settings.model_fields.values():
        model = section.annotation
        assert isinstance(model, type) and issubclass(model, BaseSettings)
        prefix = model.model_config.get("env_prefix", "")
        for name, field in model.model_fields.items():
            alias = field.validation_alias
            names.append(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def test_every_setting_is_in_the_configuration_table() -> None:
    missing = [name for name in environment_names() if f"`{name}`" not in README]
    assert missing == []
