"""The storage-change block when its transaction cannot even start: what it stored goes."""

from pathlib import Path

import pytest

from pixtag.db.acquire import DatabaseBusy
from pixtag.db.database import pooled
from pixtag.settings import Settings
from pixtag.storage.change import Change
from pixtag.storage.local import LocalStorage


async def test_a_change_whose_transaction_cannot_start_removes_what_it_stored(
    database_url: str, tmp_path: Path
):
    settings = Settings(database_url=database_url, data_dir=tmp_path, pool_timeout_ms=200)
    (tmp_path / "media").mkdir()
    storage = LocalStorage(tmp_path / "media", "/media")
    source = tmp_path / "received"
    source.write_bytes(b"the bytes of an image")
    stored = tmp_path / "media" / "1" / "abc.png"
    async with pooled(database_url, settings, max_size=1) as db:

        async def store_then_begin() -> None:
            async with Change(db, storage) as change:
                await change.put(source, "1/abc.png", "image/png")
                assert stored.read_bytes() == source.read_bytes()
                await change.begin()

        held = await db.pool.acquire()  # the one connection: BEGIN cannot get one
        try:
            with pytest.raises(DatabaseBusy):
                await store_then_begin()
        finally:
            await db.pool.release(held)
        # The pool is whole again: nothing was left checked out.
        assert db.pool.freesize == db.pool.size
    assert not stored.exists()
