"""Rendezvous sharding: every source in exactly one shard, balanced, stable on resize."""

from __future__ import annotations

import pytest

from sitroom.cli import main
from sitroom.sharding import in_shard, parse_shard, shard_of

NAMES = [f"cam-{i:05d}" for i in range(4000)]


def test_every_name_lands_in_exactly_one_shard():
    for name in NAMES[:500]:
        assert sum(in_shard(name, (i, 4)) for i in range(4)) == 1


def test_balanced():
    counts = [0] * 4
    for name in NAMES:
        counts[shard_of(name, 4)] += 1
    assert all(800 <= c <= 1200 for c in counts), counts


def test_growing_moves_few_sources():
    moved = sum(shard_of(n, 4) != shard_of(n, 5) for n in NAMES)
    # ideal is 1/5 of sources; modulo hashing would move about 4/5
    assert moved / len(NAMES) < 0.25
    # and every moved source moved to the new shard, never between old ones
    assert all(shard_of(n, 5) == 4 for n in NAMES if shard_of(n, 4) != shard_of(n, 5))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2/4", (2, 4)), ("sitroom-2/4", (2, 4)), ("city-cams.b-0/1", (0, 1)), (" 0/3 ", (0, 3))],
)
def test_shard_from_index_or_statefulset_pod_name(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize(
    "bad",
    ["4/4", "-1/2", "1/0", "a/b", "1", "", "sitroom/3", "sitroom-3/3", "Sitroom-1/3",
     "sitroom-1", "0/10001"],
)
def test_bad_shard_spec(bad):
    with pytest.raises(ValueError):
        parse_shard(bad)


async def test_daemon_serves_only_its_shard(write_config, start_daemon):
    names = [f"s{i}" for i in range(12)]
    config_dir = write_config(sources=[{"kind": "tick", "name": n} for n in names])
    d0 = await start_daemon(config_dir, shard=(0, 3))
    d1 = await start_daemon(config_dir, shard=(1, 3))
    d2 = await start_daemon(config_dir, shard=(2, 3))
    served = [set(d.daemon.runners) for d in (d0, d1, d2)]
    assert set().union(*served) == set(names)
    assert sum(len(s) for s in served) == len(names)
    assert served[0] == {n for n in names if shard_of(n, 3) == 0}
    for ordinal, replica in enumerate((d0, d1, d2)):
        status, text = await replica.get("/metrics")
        assert status == 200
        assert f"sitroom_shard_ordinal {ordinal}" in text
        assert "sitroom_total_shards 3" in text


def test_shard_of_names_the_owning_replica(capsys):
    names = [f"cam-{i}" for i in range(20)]
    assert main(["shard-of", *names, "--shards", "4", "--statefulset", "sitroom"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{n}\tsitroom-{shard_of(n, 4)}" for n in names]
    with pytest.raises(SystemExit):
        main(["shard-of", "cam-1", "--shards", "0"])
    assert "at least 1" in capsys.readouterr().err
