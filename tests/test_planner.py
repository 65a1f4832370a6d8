"""The arena planner against its oracles: the overlap checker and the lower bound."""
import random

from tinykiln.plan.planner import Buffer, check_overlaps, lower_bound, plan, render


def random_buffers(rng, n):
    out = []
    for i in range(n):
        first = rng.randrange(0, 20)
        out.append(Buffer(("t", i), rng.randrange(1, 5000), first, first + rng.randrange(0, 6)))
    return out


def test_random_plans_never_overlap_and_respect_bound():
    rng = random.Random(5)
    for _ in range(300):
        bufs = random_buffers(rng, rng.randrange(1, 25))
        p = plan(bufs)
        assert check_overlaps(bufs, p.offsets) == []
        assert p.arena_size >= p.lower_bound == lower_bound(bufs)
        assert all(off % 4 == 0 for off in p.offsets.values())


def test_overlap_checker_catches_a_bad_plan():
    a, b = Buffer("a", 100, 0, 2), Buffer("b", 100, 1, 3)
    assert check_overlaps([a, b], {"a": 0, "b": 50}) == [("a", "b")]
    assert check_overlaps([a, b], {"a": 0, "b": 100}) == []
    c = Buffer("c", 100, 3, 4)        # not live with a: may share bytes
    assert check_overlaps([a, c], {"a": 0, "c": 0}) == []


def test_chain_reaches_lower_bound():
    # a chain of layers: each buffer lives from its producer to its consumer
    sizes = [640, 128, 128, 128, 8, 128, 128, 640]
    bufs = [Buffer(i, s, max(i - 1, 0), i) for i, s in enumerate(sizes)]
    p = plan(bufs)
    assert p.arena_size == p.lower_bound == 768


def test_render_has_one_row_per_step():
    bufs = [Buffer("x", 64, 0, 1), Buffer("y", 32, 1, 2)]
    text = render(bufs, plan(bufs))
    assert len([ln for ln in text.splitlines() if "|" in ln]) == 3
