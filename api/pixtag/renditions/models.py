"""The bodies of the renditions API: a rebuild asked for, and its progress."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from pixtag.models import BIGINT_MAX, DIGITS, Integer

PresetName = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="A rendition preset (PIXTAG_RENDITION_PRESETS): ``thumb``, ``preview``.",
    ),
]

RebuildId = Annotated[
    int, Field(ge=1, le=BIGINT_MAX, description="The rebuild's id." + DIGITS), Integer
]


class RebuildRequest(BaseModel):
    """Which renditions to build: of one preset or all presets; the missing ones or all."""

    model_config = ConfigDict(extra="forbid")

    preset: PresetName | None = Field(default=None, description="Only this preset.")
    all: bool = Field(
        default=False, description="Build every rendition again, not only the missing ones."
    )


class Rebuild(BaseModel):
    """A rebuild's progress: one job per image, counted by status."""

    rebuild_id: int
    presets: list[str]
    all: bool
    total: int = Field(ge=0, description="Images queued.")
    queued: int = Field(ge=0)
    running: int = Field(ge=0)
    done: int = Field(ge=0)
    failed: int = Field(ge=0)
    finished: bool = Field(description="No job of the rebuild is queued or running.")
    created_at: datetime
