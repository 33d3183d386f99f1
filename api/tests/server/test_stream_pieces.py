"""The JSON document of a stream whose rows come in pieces of any size (``json_piece``)."""

import itertools
import json
import random

import pytest

from pixtag.views.stream import json_end, json_piece


def document(rows: list[bytes], cuts: list[int], chunk_size: int) -> bytes:
    out, written = [], 0
    bounds = [0, *cuts, len(rows)]
    for start, stop in itertools.pairwise(bounds):
        if stop > start:
            out.append(json_piece(rows[start:stop], written, chunk_size))
            written = stop
    out.append(json_end(written, chunk_size, {"after": "x"}, "totalImages"))
    return b"".join(out)


@pytest.mark.parametrize("seed", range(40))
def test_pieces_of_any_size_make_chunks_of_chunk_size(seed: int) -> None:
    chance = random.Random(seed)
    count = chance.randrange(0, 60)
    chunk_size = chance.randrange(1, 12)
    rows = [json.dumps({"n": n}).encode() for n in range(count)]
    cuts = sorted(chance.sample(range(1, count), min(max(count - 1, 0), chance.randrange(8))))
    parsed = json.loads(document(rows, cuts, chunk_size))
    *chunks, totals = parsed
    assert chunks == [
        [{"n": n} for n in range(start, min(start + chunk_size, count))]
        for start in range(0, count, chunk_size)
    ]
    assert totals == {"totalImages": count, "totalChunks": len(chunks), "after": "x"}


def test_empty_stream_is_the_seed_document() -> None:
    assert json_end(0, 1000, {}, "totalImages") == b'[{"totalImages": 0, "totalChunks": 0}]'
