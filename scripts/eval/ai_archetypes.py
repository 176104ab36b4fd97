"""Job archetypes for scripts/eval/ai: seeded synthetic ping histories with labelled outages.

Each archetype is a kind of job a Lifeline user runs, with the fixed interval + grace a careful
user would configure for it (the baseline, and the AI's fallback). `generate(archetype, seed,
instance)` builds one heartbeat of that kind: its time zone, training and test pings, and the
outages labelled in its test period. The same (seed, archetype, instance) always gives the same
heartbeat, whatever else the run includes, so one archetype can be rerun alone.

Labels: an outage is [start, end). For a scheduled job, start is the scheduled time of the first
run that was lost (not run, hung, or sent a collapsed payload) and end the scheduled time of the
first healthy run after it; for the Poisson queue worker, the instants it stopped and resumed.
The dying job (slowdown-death) is labelled from the first slowed run to the end of the test: the
slowdown is the failure developing, and warning about it is what early warnings are for.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable, Optional, Sequence
from zoneinfo import ZoneInfo

UTC = timezone.utc
MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR

TEST_DAYS = 14
# Most archetypes test 4-18 May 2026 after up to three weeks of training from 13 April: no zone
# used here changes its clocks in that stretch (Sydney's last change is 5 April), so daylight
# saving is exercised only where it is meant to be.
SPRING_TEST_START = datetime(2026, 5, 4, tzinfo=UTC)
# The DST archetype tests 21 Oct - 4 Nov 2026: Europe falls back on 25 Oct, the US on 1 Nov.
AUTUMN_TEST_START = datetime(2026, 10, 21, tzinfo=UTC)
# Outages start at least this long after the test starts and end this long before it ends, so
# the replay has seen the test running before and sees the job recover after.
OUTAGE_MARGIN = timedelta(days=1)
# The design doc's threshold: a heartbeat gets a model once it has this much history.
MIN_MODEL_HISTORY = timedelta(days=7)


@dataclass(frozen=True)
class Ping:
    at: datetime
    kind: str  # success | start | fail
    body_size: int


@dataclass(frozen=True)
class Outage:
    start: datetime
    end: datetime
    what: str


@dataclass(frozen=True)
class Window:
    train_start: datetime
    test_start: datetime
    test_end: datetime


@dataclass(frozen=True)
class Ctx:
    """What a generator needs: its random source and where its heartbeat lives in time."""

    rng: random.Random
    instance: int
    window: Window
    # Alerts up to this long after an outage's end still count for it (see the scoring rules),
    # so outages are kept further apart than this: no alert can belong to two of them.
    tolerance: timedelta


@dataclass(frozen=True)
class Archetype:
    name: str
    summary: str
    interval: int  # seconds: the fixed configuration = baseline = the AI's fallback
    grace: int
    baseline_why: str  # why a careful user would configure interval + grace so
    train_days: tuple[int, int]  # drawn per heartbeat, inclusive
    test_start: datetime
    build: Callable[[Ctx], tuple[str, list[Ping], list[Outage]]]
    heavy_tailed: bool = False  # run time with a long tail: the AI may alert later here
    variable_runtime: bool = False  # the AI must beat the baseline's false alerts here

    @property
    def tolerance(self) -> timedelta:
        return timedelta(seconds=self.interval + self.grace)


@dataclass(frozen=True)
class Scenario:
    """One generated heartbeat."""

    archetype: Archetype
    instance: int
    tz: str
    window: Window
    train: list[Ping]
    test: list[Ping]
    outages: list[Outage]


# --- time helpers ---------------------------------------------------------------------------


def at_local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """The UTC instant a cron job runs at a local wall-clock time. fold=0: in the autumn's
    repeated hour the first occurrence, in the spring's missing hour the instant an hour later,
    which is what cron does."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def local_days(window: Window, tz: ZoneInfo) -> Iterable[date]:
    day = window.train_start.astimezone(tz).date() - timedelta(days=1)
    last = window.test_end.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def daily_runs(
    window: Window, tz: ZoneInfo, clock: time, weekdays: Sequence[int] = range(7)
) -> list[datetime]:
    """Scheduled instants of a job run at `clock` local time on the given weekdays (Monday 0)."""
    runs = (at_local(day, clock, tz) for day in local_days(window, tz) if day.weekday() in weekdays)
    return [run for run in runs if window.train_start <= run < window.test_end]


def every(window: Window, step: int, phase: int = 0) -> list[datetime]:
    """Scheduled instants of a job run every `step` seconds (`phase` past the UTC epoch grid)."""
    first = math.ceil((window.train_start.timestamp() - phase) / step) * step + phase
    runs = []
    t = datetime.fromtimestamp(first, UTC)
    while t < window.test_end:
        runs.append(t)
        t += timedelta(seconds=step)
    return runs


def secs(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=rng.uniform(low, high))


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def success(at: datetime, body_size: float) -> Ping:
    return Ping(at, "success", int(body_size))


def start(at: datetime) -> Ping:
    return Ping(at, "start", 0)


def offset_changes(tz: ZoneInfo, window: Window) -> list[datetime]:
    """UTC instants (to the hour) at which the zone's offset changes inside the window."""
    changes = []
    t = window.train_start
    previous = t.astimezone(tz).utcoffset()
    while t < window.test_end:
        t += timedelta(hours=1)
        offset = t.astimezone(tz).utcoffset()
        if offset != previous:
            changes.append(t)
            previous = offset
    return changes


# --- outages --------------------------------------------------------------------------------


def snap_up(runs: Sequence[datetime], t: datetime) -> Optional[datetime]:
    """The first scheduled run at or after t."""
    i = bisect.bisect_left(runs, t)
    return runs[i] if i < len(runs) else None


def pick_outages(
    ctx: Ctx,
    *,
    count: int,
    duration: tuple[float, float],
    runs: Optional[Sequence[datetime]] = None,
    earliest: Optional[datetime] = None,
    latest: Optional[datetime] = None,
    start_ok: Callable[[datetime], bool] = lambda _: True,
    avoid: Sequence[tuple[datetime, datetime]] = (),
    what: str = "silent",
) -> list[Outage]:
    """`count` random outages inside [earliest, latest], each at least `duration[0]` seconds
    long, separated by more than the scoring tolerance, none touching an `avoid` range. With
    `runs`, start and end snap to scheduled runs (start = first lost run, end = first healthy
    run after it); without, the job is continuous (a Poisson stream) and they stay as drawn."""
    earliest = earliest or ctx.window.test_start + OUTAGE_MARGIN
    latest = latest or ctx.window.test_end - OUTAGE_MARGIN
    separation = ctx.tolerance + timedelta(hours=1)

    def one() -> Optional[Outage]:
        length = timedelta(seconds=ctx.rng.uniform(*duration))
        room = (latest - earliest - length).total_seconds()
        if room <= 0:
            return None
        start: Optional[datetime] = earliest + timedelta(seconds=ctx.rng.uniform(0, room))
        if runs is not None:
            start = snap_up(runs, start)
        if start is None:
            return None
        # Snapped after the start has moved, so the outage loses at least one run.
        end = start + length if runs is None else snap_up(runs, start + length)
        if end is None or end > latest or not start_ok(start):
            return None
        if any(start < a_end and a_start < end for a_start, a_end in avoid):
            return None
        return Outage(start, end, what)

    def apart(o: Outage, chosen: list[Outage]) -> bool:
        return all(o.start >= c.end + separation or c.start >= o.end + separation for c in chosen)

    # Rejection sampling: the constraints are loose, so this ends within a few draws; running
    # out of attempts means an archetype asks for more than its test period can hold.
    for _ in range(1000):
        chosen: list[Outage] = []
        for _ in range(count):
            outage = one()
            if outage is None or not apart(outage, chosen):
                break
            chosen.append(outage)
        if len(chosen) == count:
            return sorted(chosen, key=lambda o: o.start)
    raise ValueError(
        f"no room for {count} outage(s) of {duration} s between {earliest} and {latest}"
    )


def lost(t: datetime, outages: Sequence[Outage]) -> Optional[Outage]:
    """The outage during which a run scheduled at t is lost, if any."""
    return next((o for o in outages if o.start <= t < o.end), None)


def one_or_two(ctx: Ctx) -> int:
    return ctx.rng.choice((1, 2))


# --- the archetypes -------------------------------------------------------------------------
# Each builder returns (time zone, pings over the whole window, outages). Success pings carry
# the small bodies real jobs send (a log tail, a JSON summary); start pings have none.


def fixed_5min(ctx: Ctx):
    """A 5-minute infrastructure probe on a UTC clock, arriving 2-20 s after its slot."""
    runs = every(ctx.window, 5 * MINUTE)
    outages = pick_outages(ctx, count=one_or_two(ctx), duration=(20 * MINUTE, 3 * HOUR), runs=runs)
    pings = [
        success(run + secs(ctx.rng, 2, 20), 0) for run in runs if not lost(run, outages)
    ]
    return "UTC", pings, outages


def hourly(ctx: Ctx):
    """An hourly sync at :00, 5-90 s of work, a small log tail as body."""
    runs = every(ctx.window, HOUR)
    outages = pick_outages(ctx, count=one_or_two(ctx), duration=(1.5 * HOUR, 8 * HOUR), runs=runs)
    pings = [
        success(run + secs(ctx.rng, 5, 90), lognormal(ctx.rng, 300, 0.3))
        for run in runs
        if not lost(run, outages)
    ]
    return "America/Sao_Paulo", pings, outages


def daily_dst(ctx: Ctx):
    """A nightly backup at 02:00 local; half the heartbeats in Berlin, half in New York, so the
    test fortnight crosses one autumn change each (a 25-hour day). Outages keep clear of the
    change, so the change itself is only a chance for false alerts."""
    tz_name = "Europe/Berlin" if ctx.instance % 2 == 0 else "America/New_York"
    tz = ZoneInfo(tz_name)
    runs = daily_runs(ctx.window, tz, time(2, 0))
    clear = timedelta(days=1.5)
    avoid = [(change - clear, change + clear) for change in offset_changes(tz, ctx.window)]
    outages = pick_outages(
        ctx, count=one_or_two(ctx), duration=(0.5 * DAY, 2 * DAY), runs=runs, avoid=avoid
    )
    pings = [
        success(run + secs(ctx.rng, 40, 6 * MINUTE), lognormal(ctx.rng, 2000, 0.2))
        for run in runs
        if not lost(run, outages)
    ]
    return tz_name, pings, outages


def weekdays_daily(ctx: Ctx):
    """A report at 07:30 local, Monday to Friday only."""
    tz = ZoneInfo("America/Chicago")
    runs = daily_runs(ctx.window, tz, time(7, 30), weekdays=range(5))
    outages = pick_outages(ctx, count=one_or_two(ctx), duration=(0.5 * DAY, 3.5 * DAY), runs=runs)
    pings = [
        success(run + secs(ctx.rng, 20, 3 * MINUTE), lognormal(ctx.rng, 800, 0.2))
        for run in runs
        if not lost(run, outages)
    ]
    return "America/Chicago", pings, outages


def business_hours(ctx: Ctx):
    """A poller that runs every 5-15 minutes from 09:00 to 17:00 local on weekdays. Outages
    start Monday-Thursday between 09:00 and 14:00, so each one costs hours of business time
    (one starting at 16:55 on a Friday would be a few minutes of real silence)."""
    tz = ZoneInfo("Europe/London")
    runs = []
    for day in local_days(ctx.window, tz):
        if day.weekday() >= 5:
            continue
        t = at_local(day, time(9, 0), tz) + secs(ctx.rng, 0, 10 * MINUTE)
        close = at_local(day, time(17, 0), tz)
        while t < close:
            runs.append(t)
            t += secs(ctx.rng, 5 * MINUTE, 15 * MINUTE)
    runs = [run for run in runs if ctx.window.train_start <= run < ctx.window.test_end]

    def in_business_morning(t: datetime) -> bool:
        local = t.astimezone(tz)
        return local.weekday() <= 3 and 9 <= local.hour < 14

    outages = pick_outages(
        ctx,
        count=one_or_two(ctx),
        duration=(2 * HOUR, 30 * HOUR),
        runs=runs,
        start_ok=in_business_morning,
    )
    pings = [
        success(run, lognormal(ctx.rng, 400, 0.3))
        for run in runs
        if not lost(run, outages)
    ]
    return "Europe/London", pings, outages


def weekly(ctx: Ctx):
    """A Sunday 04:00 local clean-up. The test fortnight holds two runs, so its one outage is
    always the first of them (the second shows the recovery)."""
    tz = ZoneInfo("Asia/Kolkata")
    runs = daily_runs(ctx.window, tz, time(4, 0), weekdays=(6,))
    outages = pick_outages(ctx, count=1, duration=(0.5 * DAY, 7 * DAY), runs=runs)
    pings = [
        success(run + secs(ctx.rng, MINUTE, 10 * MINUTE), lognormal(ctx.rng, 10_000, 0.2))
        for run in runs
        if not lost(run, outages)
    ]
    return "Asia/Kolkata", pings, outages


def ml_training(ctx: Ctx):
    """Nightly model training: start at 01:00 local, success after a lognormal run time (median
    2 h) of which one run in five lands in a long tail (~3x). Outage: 1-2 nights whose
    run starts and is killed (out of memory): a start ping, then no success."""
    tz = ZoneInfo("America/Los_Angeles")
    runs = daily_runs(ctx.window, tz, time(1, 0))
    outages = pick_outages(
        ctx, count=one_or_two(ctx), duration=(0.5 * DAY, 2 * DAY), runs=runs, what="crashed run"
    )
    pings = []
    for run in runs:
        began = run + secs(ctx.rng, 0, MINUTE)
        pings.append(start(began))
        runtime = lognormal(ctx.rng, 2 * HOUR, 0.45)
        if ctx.rng.random() < 0.2:
            runtime *= lognormal(ctx.rng, 3.0, 0.3)
        runtime = min(runtime, 16 * HOUR)
        if not lost(run, outages):
            ended = began + timedelta(seconds=runtime)
            pings.append(success(ended, lognormal(ctx.rng, 1500, 0.1)))
    return "America/Los_Angeles", pings, outages


def growing_export(ctx: Ctx):
    """A nightly export at 03:00 local whose payload grows 6% of its first size a day, with
    Monday's run carrying the weekend (twice the payload). Run time is payload / throughput
    (3 MB/min +-10%): about 40 min at first, 2 h weekdays and 4 h Mondays by the end. The body
    is the export's manifest, 1 KB per MB exported. Outage: 1-2 nights it does not run."""
    tz = ZoneInfo("Europe/Amsterdam")
    runs = daily_runs(ctx.window, tz, time(3, 0))
    outages = pick_outages(ctx, count=one_or_two(ctx), duration=(0.5 * DAY, 2 * DAY), runs=runs)
    pings = []
    for run in runs:
        days = (run - ctx.window.train_start) / timedelta(days=1)
        weekend = 2.0 if run.astimezone(tz).weekday() == 0 else 1.0
        payload_mb = 120 * (1 + 0.06 * days) * weekend * ctx.rng.uniform(0.95, 1.05)
        runtime_min = payload_mb / (3.0 * ctx.rng.uniform(0.9, 1.1))
        if lost(run, outages):
            continue
        began = run + secs(ctx.rng, 0, 30)
        pings.append(start(began))
        pings.append(success(began + timedelta(minutes=runtime_min), payload_mb * 1000))
    return "Europe/Amsterdam", pings, outages


def hung_runs(ctx: Ctx):
    """An hourly job at :17 local with start + success (run time ~6 min). Outage: a run hangs
    after its start ping; it holds the job's lock, so the next runs exit without pinging, until
    someone kills it and the next scheduled run is healthy."""
    runs = every(ctx.window, HOUR, phase=17 * MINUTE)
    outages = pick_outages(
        ctx, count=one_or_two(ctx), duration=(1.5 * HOUR, 8 * HOUR), runs=runs, what="hung run"
    )
    pings = []
    for run in runs:
        outage = lost(run, outages)
        began = run + secs(ctx.rng, 0, 20)
        if outage is None or run == outage.start:
            pings.append(start(began))
        if outage is None:
            runtime = timedelta(seconds=lognormal(ctx.rng, 6 * MINUTE, 0.3))
            pings.append(success(began + runtime, lognormal(ctx.rng, 600, 0.2)))
    return "Asia/Tokyo", pings, outages


def bursty_worker(ctx: Ctx):
    """A queue worker pinging after each batch: a Poisson stream whose rate follows the local
    day, 1.5 batches/h at 03:00 up to 30/h at 15:00. Outages start between 08:00 and 18:00 local
    (when silence means something within minutes) and last 1-6 h; they are not snapped."""
    tz = ZoneInfo("Asia/Singapore")
    night, day = 1.5, 30.0

    def rate_per_hour(t: datetime) -> float:
        local = t.astimezone(tz)
        hour = local.hour + local.minute / 60
        return night + (day - night) * (1 - math.cos(2 * math.pi * (hour - 3) / 24)) / 2

    def daytime(t: datetime) -> bool:
        return 8 <= t.astimezone(tz).hour < 18

    outages = pick_outages(
        ctx, count=one_or_two(ctx), duration=(1 * HOUR, 6 * HOUR), start_ok=daytime
    )
    # Thinning: candidates at the peak rate, each kept with probability rate(t) / peak.
    pings = []
    t = ctx.window.train_start
    while True:
        t += timedelta(hours=ctx.rng.expovariate(day))
        if t >= ctx.window.test_end:
            break
        if ctx.rng.random() < rate_per_hour(t) / day and not lost(t, outages):
            pings.append(success(t.replace(microsecond=0), lognormal(ctx.rng, 2000, 0.6)))
    return "Asia/Singapore", pings, outages


def moving_schedule(ctx: Ctx):
    """A daily job at 02:00 local that its team moves to 05:00 on a day in the middle of the
    test. Not an outage: every alert on it is false."""
    tz = ZoneInfo("Australia/Sydney")
    moved = ctx.window.test_start + timedelta(days=ctx.rng.randint(4, 10))
    move_day = moved.astimezone(tz).date()
    runs = [
        at_local(day, time(2, 0) if day < move_day else time(5, 0), tz)
        for day in local_days(ctx.window, tz)
    ]
    runs = [run for run in runs if ctx.window.train_start <= run < ctx.window.test_end]
    pings = [
        success(run + secs(ctx.rng, 30, 4 * MINUTE), lognormal(ctx.rng, 1200, 0.2))
        for run in runs
    ]
    return "Australia/Sydney", pings, []


def slowdown_death(ctx: Ctx):
    """An hourly job at :05 local with start + success (run time ~4 min) that degrades: over 2-4
    days its run time grows to ~48 min (quadratically), then it dies and sends nothing more.
    Labelled as one outage from the first slowed run to the end of the test (no recovery)."""
    tz_name = "America/New_York"
    runs = every(ctx.window, HOUR, phase=5 * MINUTE)
    slowdown = timedelta(days=ctx.rng.uniform(2, 4))
    earliest = ctx.window.test_start + timedelta(days=2)
    latest_start = ctx.window.test_end - OUTAGE_MARGIN - slowdown
    first_slow = snap_up(runs, earliest + (latest_start - earliest) * ctx.rng.random())
    assert first_slow is not None
    death = first_slow + slowdown
    outages = [Outage(first_slow, ctx.window.test_end, "slowdown, then silence")]
    pings = []
    for run in runs:
        if run >= death:
            break
        began = run + secs(ctx.rng, 0, 20)
        runtime = lognormal(ctx.rng, 4 * MINUTE, 0.25)
        if run >= first_slow:
            progress = (run - first_slow) / slowdown
            runtime += (44 * MINUTE) * progress**2
        pings.append(start(began))
        pings.append(success(began + timedelta(seconds=runtime), lognormal(ctx.rng, 900, 0.2)))
    return tz_name, pings, outages


def payload_collapse(ctx: Ctx):
    """A 15-minute ingestion job whose body is its batch (~45 KB). Outage: 2-24 h during which
    pings keep coming on time but the body collapses to 0-64 bytes (an empty upstream feed)."""
    runs = every(ctx.window, 15 * MINUTE)
    outages = pick_outages(
        ctx,
        count=one_or_two(ctx),
        duration=(2 * HOUR, 24 * HOUR),
        runs=runs,
        what="collapsed payload",
    )
    pings = []
    for run in runs:
        collapsed = lost(run, outages) is not None
        body = ctx.rng.randint(0, 64) if collapsed else int(lognormal(ctx.rng, 45_000, 0.12))
        pings.append(success(run + secs(ctx.rng, 3, 40), body))
    return "Europe/Paris", pings, outages


def healthy_noisy(ctx: Ctx):
    """A healthy 10-minute job with 0-4 min of jitter, and one run in two hundred delayed by a
    further lognormal 5 min (occasionally 15+). No outage: every alert on it is false."""
    runs = every(ctx.window, 10 * MINUTE)
    pings = []
    for run in runs:
        delay = ctx.rng.uniform(0, 4 * MINUTE)
        if ctx.rng.random() < 0.005:
            delay += lognormal(ctx.rng, 5 * MINUTE, 0.7)
        pings.append(success(run + timedelta(seconds=delay), lognormal(ctx.rng, 500, 0.8)))
    return "America/Denver", pings, []


def short_history(ctx: Ctx):
    """An hourly job at :30 with only 3-5 days of training. Its outages fall while its history
    is still under 7 days, where the AI has no model and must behave exactly like fixed mode."""
    runs = every(ctx.window, HOUR, phase=30 * MINUTE)
    outages = pick_outages(
        ctx,
        count=one_or_two(ctx),
        duration=(1.5 * HOUR, 5 * HOUR),
        runs=runs,
        earliest=ctx.window.test_start + timedelta(hours=3),
        latest=ctx.window.train_start + MIN_MODEL_HISTORY,
    )
    pings = [
        success(run + secs(ctx.rng, 5, 2 * MINUTE), lognormal(ctx.rng, 300, 0.2))
        for run in runs
        if not lost(run, outages)
    ]
    return "Europe/Madrid", pings, outages


def _archetype(name, summary, interval, grace, why, build, train_days=(21, 21), **kw) -> Archetype:
    test_start = kw.pop("test_start", SPRING_TEST_START)
    return Archetype(name, summary, interval, grace, why, train_days, test_start, build, **kw)


ARCHETYPES: list[Archetype] = [
    _archetype("fixed-5min", "every 5 min, small jitter", 5 * MINUTE, 5 * MINUTE,
               "one missed run of slack", fixed_5min, train_days=(14, 14)),
    _archetype("hourly", "every hour", HOUR, 15 * MINUTE,
               "a quarter of the period", hourly),
    _archetype("daily-dst", "02:00 local daily, test crosses the autumn DST change",
               DAY, HOUR, "daily + 1 h", daily_dst, test_start=AUTUMN_TEST_START),
    _archetype("weekdays-daily", "07:30 local Monday-Friday", 3 * DAY, HOUR,
               "3 d so the weekend does not alarm", weekdays_daily),
    _archetype("business-hours", "every 5-15 min, 09:00-17:00 local weekdays", 64 * HOUR, HOUR,
               "64 h covers Friday 17:00 to Monday 09:00", business_hours),
    _archetype("weekly", "Sunday 04:00 local", 7 * DAY, 6 * HOUR,
               "weekly + 6 h", weekly),
    _archetype("ml-training", "daily start + success, lognormal run time with a long tail",
               DAY, 4 * HOUR, "covers most of the run-time tail, not all", ml_training,
               heavy_tailed=True, variable_runtime=True),
    _archetype("growing-export", "daily start + success, run time grows with body_size",
               DAY, HOUR, "daily + 1 h, set when the export was small", growing_export,
               variable_runtime=True),
    _archetype("hung-runs", "hourly start + success; outage = a run that hangs", HOUR, 15 * MINUTE,
               "a quarter of the period", hung_runs),
    _archetype("bursty-worker", "Poisson queue worker, busy by day, quiet at night", 3 * HOUR, HOUR,
               "covers the quiet night's longest gaps", bursty_worker),
    _archetype("moving-schedule", "daily 02:00 local moved to 05:00 mid-test (no outage)",
               DAY, HOUR, "daily + 1 h", moving_schedule),
    _archetype("slowdown-death", "hourly start + success, slows down for days, then dies", HOUR,
               15 * MINUTE, "a quarter of the period", slowdown_death),
    _archetype("payload-collapse", "every 15 min on time, body_size collapses to ~0", 15 * MINUTE,
               10 * MINUTE, "two thirds of the period", payload_collapse),
    _archetype("healthy-noisy", "every 10 min, heavy jitter, rare long delays (no outage)",
               10 * MINUTE, 15 * MINUTE, "covers the jitter and most delays", healthy_noisy),
    _archetype("short-history", "hourly with only 3-5 days of training", HOUR, 15 * MINUTE,
               "a quarter of the period", short_history, train_days=(3, 5)),
]

BY_NAME = {a.name: a for a in ARCHETYPES}


def generate(archetype: Archetype, seed: int, instance: int) -> Scenario:
    # A string seed is hashed with SHA-512 by `random`, independent of PYTHONHASHSEED, so each
    # heartbeat's data depends only on (seed, archetype, instance).
    rng = random.Random(f"lifeline-eval-ai/{seed}/{archetype.name}/{instance}")
    train_days = rng.randint(*archetype.train_days)
    test_start = archetype.test_start
    window = Window(
        train_start=test_start - timedelta(days=train_days),
        test_start=test_start,
        test_end=test_start + timedelta(days=TEST_DAYS),
    )
    tz, pings, outages = archetype.build(Ctx(rng, instance, window, archetype.tolerance))
    # Whole seconds, as the CSV carries them; sorted stably, so a start stays before its success.
    pings = sorted(
        (Ping(p.at.replace(microsecond=0), p.kind, p.body_size) for p in pings), key=lambda p: p.at
    )
    pings = [p for p in pings if window.train_start <= p.at < window.test_end]
    return Scenario(
        archetype=archetype,
        instance=instance,
        tz=tz,
        window=window,
        train=[p for p in pings if p.at < test_start],
        test=[p for p in pings if p.at >= test_start],
        outages=outages,
    )
