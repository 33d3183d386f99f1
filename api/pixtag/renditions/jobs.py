"""The jobs of the ``renditions`` queue: a stored file's eager presets, and rebuilds.

A job builds through the same single-flight path as a request, so a
thumbnail asked for while its job runs is built once. An image deleted, or
whose file went, meanwhile is no failure: there is nothing left to render.
"""

from typing import Any

from pixtag.errors import Gone, NotFound
from pixtag.jobs.errors import Permanent
from pixtag.jobs.queries import Claimed
from pixtag.renditions import queries
from pixtag.renditions.builder import Builder, RenditionFailed

QUEUE = "renditions"
STORED = "stored"
REBUILD = "rebuild"


async def stored(builder: Builder, job: Claimed) -> dict[str, Any]:
    """Build the eager presets of a file just stored (the ingest queues it with the record)."""
    return await _build(builder, int(job.payload["image_id"]), list(builder.eager), force=False)


async def rebuild(builder: Builder, job: Claimed) -> dict[str, Any]:
    """Build one image's presets of a rebuild: the missing ones, or all again."""
    presets = queries.payload_presets(job.payload)
    force = bool(job.payload.get("all"))
    return await _build(builder, int(job.payload["image_id"]), presets, force=force)


async def _build(
    builder: Builder, image_id: int, names: list[str], *, force: bool
) -> dict[str, Any]:
    built: list[str] = []
    for name in names:
        preset = builder.presets.get(name)
        if preset is None:
            continue  # removed from the settings since the job was queued
        try:
            await builder.in_background(image_id, preset, force=force)
        except (NotFound, Gone) as error:
            return {"image_id": image_id, "built": built, "skipped": error.detail}
        except RenditionFailed as error:
            raise Permanent("unrenderable", error.detail) from None
        built.append(name)
    return {"image_id": image_id, "built": built}
