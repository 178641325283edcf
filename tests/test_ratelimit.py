"""The client-side rate limiter: a sliding window, tested on a fake clock (no waiting), plus
one real-threads run checking the window property on the permits actually handed out."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoicebox_flow.ratelimit import RateLimiter


class FakeClock:
    """A clock that only moves when somebody sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(limit: int, period: float) -> tuple[RateLimiter, FakeClock]:
    clock = FakeClock()
    return RateLimiter(limit, period, clock=clock, sleep=clock.sleep), clock


def assert_window_property(stamps: list[float], limit: int, period: float) -> None:
    """No ``limit + 1`` permits were taken within less than ``period`` of each other."""
    stamps = sorted(stamps)
    for first, last in zip(stamps, stamps[limit:], strict=False):
        assert last - first >= period - 1e-9, (first, last)


def test_the_first_limit_permits_are_free_and_the_next_waits_for_the_oldest_to_leave():
    rl, clock = limiter(3, 10.0)
    for _ in range(3):
        rl.acquire().release()
    assert clock.sleeps == []
    clock.now = 4.0
    rl.acquire().release()
    # The window is sliding: the slot frees when the first permit is 10 s old, not at a fixed tick.
    assert clock.now == pytest.approx(10.0)
    assert sum(clock.sleeps) == pytest.approx(6.0)


def test_a_burst_is_paced_to_limit_per_period():
    rl, clock = limiter(5, 1.0)
    stamps = []
    for _ in range(23):
        permit = rl.acquire()
        stamps.append(permit.stamp)
        permit.release()
    assert_window_property(stamps, 5, 1.0)
    # 23 permits at 5 per second: the last one is taken in the fifth second, not later.
    assert clock.now == pytest.approx(4.0)


def test_a_permit_in_flight_keeps_its_slot_however_old_it_is():
    rl, clock = limiter(1, 1.0)
    slow = rl.acquire()
    clock.now = 50.0
    assert rl.try_acquire() is None
    assert rl.in_window() == 1
    slow.release()
    assert rl.try_acquire() is None  # re-stamped at 50: counts until 51
    clock.now = 51.0
    assert rl.try_acquire() is not None


def test_release_restamps_the_permit_with_the_time_the_answer_came_back():
    rl, clock = limiter(1, 1.0)
    permit = rl.acquire()
    clock.now = 0.8
    permit.release()
    assert permit.stamp == 0.8
    clock.now = 1.5
    assert rl.try_acquire() is None
    clock.now = 1.81
    assert rl.try_acquire() is not None


def test_releasing_twice_does_not_move_the_stamp_again():
    rl, clock = limiter(2, 1.0)
    permit = rl.acquire()
    clock.now = 0.3
    permit.release()
    clock.now = 0.9
    permit.release()
    assert permit.stamp == 0.3


def test_permit_as_context_manager_releases():
    rl, clock = limiter(1, 1.0)
    with rl.acquire() as permit:
        clock.now = 0.5
    assert not permit.in_flight
    assert permit.stamp == 0.5


def test_old_permits_leave_the_window():
    rl, clock = limiter(2, 1.0)
    rl.acquire().release()
    rl.acquire().release()
    assert rl.in_window() == 2
    clock.now = 1.0
    assert rl.in_window() == 0


@pytest.mark.parametrize("limit, period", [(0, 1.0), (-1, 1.0), (1.5, 1.0), (1, 0), (1, -2.0)])
def test_nonsense_configuration_is_refused(limit, period):
    with pytest.raises(ValueError):
        RateLimiter(limit, period)


def test_repr_shows_the_configuration():
    assert repr(RateLimiter(100, 30.0)) == "RateLimiter(limit=100, period=30.0)"


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=6),
    period=st.sampled_from([0.5, 1.0, 30.0]),
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=2.0), st.floats(min_value=0, max_value=1.0)),
        min_size=1,
        max_size=40,
    ),
)
def test_no_window_ever_holds_more_than_limit_permits(limit, period, steps):
    """Whatever the arrival pattern and however long each request takes, any ``period``-long
    stretch of time sees at most ``limit`` permits taken."""
    rl, clock = limiter(limit, period)
    stamps = []
    for pause, duration in steps:
        clock.now += pause
        permit = rl.acquire()
        stamps.append(permit.stamp)
        clock.now += duration
        permit.release()
    assert_window_property(stamps, limit, period)


def test_threads_sharing_one_limiter_never_exceed_the_window():
    rl = RateLimiter(5, 0.05)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            with rl.acquire() as permit, lock:
                stamps.append(permit.stamp)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(stamps) == 40
    assert_window_property(stamps, 5, 0.05)
