"""Scoring for scripts/eval/ai: replay alerts against labelled outages, each model vs the baseline.

Rules (also in the script's header and README):
- An alert (early warning or down) counts for an outage if its `at` is in
  [outage start, outage end + tolerance], tolerance = the heartbeat's fallback interval + grace.
  Outages of one heartbeat are generated further apart than that, so no alert counts for two.
  Every other alert is a false alert.
- An outage is caught if at least one alert counts for it; its first alert is the earliest.
- Lead over the baseline, for an outage both the model and the baseline catch: baseline's first
  alert - model's first alert, in minutes (positive = the model was earlier). Reported as the
  median over those outages.
- Later than the baseline: outages the baseline caught and the model caught later or not at all.
- False alerts per heartbeat-week: false alerts / (heartbeats x test weeks).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional, Sequence

from ai_archetypes import Outage

ALERT_KINDS = ("early_warning", "down")


class ReplayOutputError(ValueError):
    """A line of replay output that breaks the replay's contract."""


@dataclass(frozen=True)
class Alert:
    at: datetime
    kind: str
    expected_by: Optional[datetime]
    reason: str


def parse_time(text: str) -> datetime:
    """RFC 3339 with `Z` or an offset, to an aware UTC datetime (also on Pythons before 3.11,
    whose fromisoformat knows neither `Z` nor fractions other than 3 or 6 digits)."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, rest = text.split(".", 1)
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = head + "." + rest[:digits][:6].ljust(6, "0") + rest[digits:]
    parsed = datetime.fromisoformat(text.replace("t", "T").replace(" ", "T", 1))
    if parsed.tzinfo is None:
        raise ValueError(f"no UTC offset in {text!r}")
    return parsed.astimezone(timezone.utc)


def parse_alerts(stdout: str) -> list[Alert]:
    """Every stdout line must be one alert object (the replay prints nothing else there)."""
    alerts = []
    for number, line in enumerate(stdout.splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            kind = doc["kind"]
            if kind not in ALERT_KINDS:
                raise ValueError(f"kind {kind!r} is not one of {ALERT_KINDS}")
            expected = doc.get("expected_by")
            alerts.append(
                Alert(
                    at=parse_time(doc["at"]),
                    kind=kind,
                    expected_by=parse_time(expected) if expected else None,
                    reason=str(doc.get("reason", "")),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
            raise ReplayOutputError(f"stdout line {number}: {e}: {line[:200]}") from e
    return alerts


@dataclass(frozen=True)
class HeartbeatScore:
    """One heartbeat under one model: the first alert per outage (None: missed), false alerts."""

    first_alerts: tuple[Optional[datetime], ...]
    false_alerts: int


def score_heartbeat(
    outages: Sequence[Outage], tolerance: timedelta, alerts: Iterable[Alert]
) -> HeartbeatScore:
    first: list[Optional[datetime]] = [None] * len(outages)
    false_alerts = 0
    for alert in alerts:
        owner = next(
            (i for i, o in enumerate(outages) if o.start <= alert.at <= o.end + tolerance), None
        )
        if owner is None:
            false_alerts += 1
        elif first[owner] is None or alert.at < first[owner]:
            first[owner] = alert.at
    return HeartbeatScore(tuple(first), false_alerts)


@dataclass
class Comparison:
    """A model against the baseline over a set of heartbeats (one archetype, or all)."""

    heartbeats: int = 0
    heartbeat_weeks: float = 0.0
    outages: int = 0
    caught: int = 0
    baseline_caught: int = 0
    leads_min: list[float] = field(default_factory=list)
    later: int = 0
    false_alerts: int = 0
    baseline_false_alerts: int = 0

    def add(self, model: HeartbeatScore, baseline: HeartbeatScore, test_weeks: float) -> None:
        self.heartbeats += 1
        self.heartbeat_weeks += test_weeks
        self.false_alerts += model.false_alerts
        self.baseline_false_alerts += baseline.false_alerts
        for mine, theirs in zip(model.first_alerts, baseline.first_alerts):
            self.outages += 1
            self.caught += mine is not None
            self.baseline_caught += theirs is not None
            if mine is not None and theirs is not None:
                self.leads_min.append((theirs - mine).total_seconds() / 60)
            if theirs is not None and (mine is None or mine > theirs):
                self.later += 1

    def merge(self, other: "Comparison") -> None:
        self.heartbeats += other.heartbeats
        self.heartbeat_weeks += other.heartbeat_weeks
        self.outages += other.outages
        self.caught += other.caught
        self.baseline_caught += other.baseline_caught
        self.leads_min += other.leads_min
        self.later += other.later
        self.false_alerts += other.false_alerts
        self.baseline_false_alerts += other.baseline_false_alerts

    @property
    def median_lead_min(self) -> Optional[float]:
        return statistics.median(self.leads_min) if self.leads_min else None

    @property
    def false_rate(self) -> float:
        return self.false_alerts / self.heartbeat_weeks if self.heartbeat_weeks else 0.0

    @property
    def baseline_false_rate(self) -> float:
        return self.baseline_false_alerts / self.heartbeat_weeks if self.heartbeat_weeks else 0.0


# --- the targets, for the product model ---------------------------------------------

FALSE_RATE_TARGET = 0.1  # false alerts per heartbeat-week, overall


@dataclass(frozen=True)
class Target:
    label: str
    verdict: str  # PASS | FAIL | SKIP
    detail: str


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def check_targets(
    rows: dict[str, Comparison],
    overall: Comparison,
    variable_runtime: Sequence[str],
    heavy_tailed: Sequence[str],
) -> list[Target]:
    """rows: per archetype in this run. variable_runtime / heavy_tailed: archetype names."""
    targets = [
        Target(
            "(a) every outage caught",
            _verdict(overall.caught == overall.outages),
            f"{overall.caught}/{overall.outages} caught"
            + _missed_by_archetype(rows),
        ),
        Target(
            f"(b) < {FALSE_RATE_TARGET} false alerts per heartbeat-week overall",
            _verdict(overall.false_rate < FALSE_RATE_TARGET),
            f"{overall.false_rate:.3f} ({overall.false_alerts} false alerts over "
            f"{overall.heartbeat_weeks:g} heartbeat-weeks)",
        ),
    ]

    fewer = "(c) fewer false alerts than the baseline on variable-runtime archetypes"
    present = [name for name in variable_runtime if name in rows]
    if present:
        details = [
            f"{name} {rows[name].false_alerts} vs baseline {rows[name].baseline_false_alerts}"
            for name in present
        ]
        ok = all(rows[n].false_alerts < rows[n].baseline_false_alerts for n in present)
        targets.append(Target(fewer, _verdict(ok), "; ".join(details)))
    else:
        absent = "none of " + ", ".join(variable_runtime) + " in this run"
        targets.append(Target(fewer, "SKIP", absent))

    median = overall.median_lead_min
    targets.append(
        Target(
            "(d) positive median lead over the baseline (outages both catch, overall)",
            _verdict(median is not None and median > 0),
            "no outage caught by both" if median is None
            else f"{median:+.1f} min over {len(overall.leads_min)} outages",
        )
    )

    offenders = [f"{name} ({row.later})" for name, row in rows.items()
                 if row.later and name not in heavy_tailed]
    targets.append(
        Target(
            "(e) later than the baseline only on heavy-tailed archetypes ("
            + ", ".join(heavy_tailed) + ")",
            _verdict(not offenders),
            "later elsewhere: " + ", ".join(offenders) if offenders
            else f"{overall.later} later, all on heavy-tailed archetypes" if overall.later
            else "never later",
        )
    )
    return targets


def _missed_by_archetype(rows: dict[str, Comparison]) -> str:
    missed = [f"{name} {row.outages - row.caught}" for name, row in rows.items()
              if row.caught < row.outages]
    return "; missed: " + ", ".join(missed) if missed else ""
