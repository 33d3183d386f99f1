"""The data set of the listing benchmark and the query shapes it times.

Tags follow a Zipf-like law: each image draws about five tags ``t<k>`` with
``k = floor(exp(U * ln(20000)))`` for uniform ``U``, so ``P(k)`` falls like
``1/k`` (``t1`` is on about a third of the images, ``t10000`` on a few dozen).
Half of the images carry an attachment, so both shapes of the image JSON are
streamed. One rare tag, ``fresh``, sits only on the newest few hundred ids:
the case where a walk along the primary key reads almost the whole table
before it finds a match. Beyond that, ``burst`` sits on the newest 2% of the
ids: common enough that the walk is kept, yet all at the far end of it.
"""

SEED = [
    "SET synchronous_commit = off",
    """
    INSERT INTO images (filename, tags, created_at,
                        content_type, size, sha256, width, height, uploaded_at, storage_key)
    SELECT 'img_' || g || '.jpg',
           ARRAY(SELECT DISTINCT 't' || floor(exp(random() * ln(%(distinct)s)))::int
                 FROM generate_series(1, 4 + g %% 3) WHERE g > 0),
           now() - (%(rows)s - g) * interval '1 second',
           CASE WHEN g %% 2 = 0 THEN 'image/jpeg' END,
           CASE WHEN g %% 2 = 0 THEN 1000 + g END,
           CASE WHEN g %% 2 = 0 THEN md5(g::text) || md5((-g)::text) END,
           CASE WHEN g %% 2 = 0 THEN 640 END,
           CASE WHEN g %% 2 = 0 THEN 480 END,
           CASE WHEN g %% 2 = 0 THEN now() END,
           CASE WHEN g %% 2 = 0
                THEN g || '/' || left(md5(g::text), 16) || '-'
                     || left(md5((-g)::text), 16) || '.jpg'
           END
    FROM generate_series(1, %(rows)s) AS g
    """,
    """
    UPDATE images SET tags = tags || '{fresh}'
    WHERE image_id > (SELECT max(image_id) FROM images) - %(fresh)s
    """,
    """
    UPDATE images SET tags = tags || '{burst}'
    WHERE image_id > (SELECT max(image_id) FROM images) - %(burst)s
    """,
]
ANALYZE = "VACUUM ANALYZE images"

# Tag frequency classes, by the share of images carrying the tag.
FREQUENCY = {"rare": 0.00005, "medium": 0.005, "common": 0.2}

PICK_TAG = """
    SELECT t, count(*) FROM images, unnest(tags) AS t
    WHERE t = ANY(%(candidates)s) GROUP BY t
"""


def candidates() -> list[str]:
    """Tags whose expected frequency spans rare to very common."""
    return [f"t{k}" for k in (1, 2, 3, 5, 10, 30, 50, 100, 150, 300, 1000, 3000, 10000, 15000)]


def shapes(tag: dict[str, str], max_id: int, min_id: int) -> list[tuple[str, dict[str, object]]]:
    """(name, query parameters) of every shape timed for first-chunk latency."""
    r, m, c = tag["rare"], tag["medium"], tag["common"]
    span = max_id - min_id
    other = "t3" if c != "t3" else "t2"  # a second common tag

    def at(share: float) -> int:
        return min_id + int(span * share)

    return [
        ("all", {}),
        ("tag rare", {"tag": r}),
        ("tag fresh (rare, newest ids)", {"tag": "fresh"}),
        ("tag medium", {"tag": m}),
        ("tag common", {"tag": c}),
        ("tags_all common+common", {"tags_all": [c, other]}),
        ("tags_all common+medium", {"tags_all": [c, m]}),
        ("tags_all common+fresh", {"tags_all": [c, "fresh"]}),
        ("tags_any rare+fresh", {"tags_any": [r, "fresh"]}),
        ("tags_any medium+medium", {"tags_any": [m, "t150"]}),
        ("tags_any common+common", {"tags_any": [c, other]}),
        ("keyset all @90%", {"after_id": at(0.9), "limit": 100}),
        ("keyset tag common @50%", {"tag": c, "after_id": at(0.5), "limit": 100}),
        ("keyset tag medium @50%", {"tag": m, "after_id": at(0.5), "limit": 100}),
        ("keyset tag medium @90%", {"tag": m, "after_id": at(0.9), "limit": 100}),
        ("keyset tag rare @10%", {"tag": r, "after_id": at(0.1), "limit": 100}),
        ("keyset tag fresh @10%", {"tag": "fresh", "after_id": at(0.1), "limit": 100}),
        ("tag burst (2%, newest ids; beyond the spec)", {"tag": "burst"}),
        ("keyset tag burst @10%", {"tag": "burst", "after_id": at(0.1), "limit": 100}),
        ("q -common (negation)", {"q": f"-{c}"}),
        ("q -rare (negation)", {"q": f"-{r}"}),
        ("tags_none common", {"tags_none": c}),
        ("q medium -common", {"q": f"{m} -{c}"}),
        ("q (rare or fresh) -common", {"q": f"({r} or fresh) -{c}"}),
        ("q common or medium", {"q": f"{c} or {m}"}),
        ("q t10* (prefix)", {"q": "t10*"}),
        ("q sort:-id", {"q": "sort:-id"}),
        ("q sort:created", {"q": "sort:created"}),
        ("q sort:-created", {"q": "sort:-created"}),
        ("q rare sort:-created", {"q": f"{r} sort:-created"}),
        ("q fresh sort:created", {"q": "fresh sort:created"}),
        ("q medium sort:-created", {"q": f"{m} sort:-created"}),
        ("q common sort:-created", {"q": f"{c} sort:-created"}),
        ("q burst sort:created", {"q": "burst sort:created"}),
        ("q -common sort:-created", {"q": f"-{c} sort:-created"}),
        ("q medium sort:-id, page of 100", {"q": f"{m} sort:-id", "limit": 100}),
    ]
