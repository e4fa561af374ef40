"""Compiles the message catalogs (``adapters/locale/*/LC_MESSAGES/*.po``) to ``.mo`` files
as a wheel or an editable install is built, and ships them in the wheel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Writes each ``.mo`` beside its ``.po`` and adds it to the build's files."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        for po in sorted(root.glob("adapters/locale/*/LC_MESSAGES/*.po")):
            with po.open("rb") as source:
                catalog = read_po(source)
            mo = po.with_suffix(".mo")
            with mo.open("wb") as compiled:
                write_mo(compiled, catalog)
            build_data["artifacts"].append(mo.relative_to(root).as_posix())
