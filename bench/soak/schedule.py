"""Which fault hits which tablet on which day, drawn once from the seed so a run can be repeated exactly.

Every fault kind lands at least once however short the run: kills mid-save and mid-sync and a server kill every
day; the rest spread over the first days (a run of one day gets them all on day 1). A clock beyond the server's
bound and a worker's leader-only change fall on workers' tablets (a leader's refused edits would leave the grid in
a mode no check could predict).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .fleet import Slot


@dataclass
class Schedule:
    days: int
    save_killed: dict[int, Slot] = field(default_factory=dict)
    sync_killed: dict[int, Slot] = field(default_factory=dict)
    disk_full: dict[int, Slot] = field(default_factory=dict)
    disk_slot: Slot | None = None
    revoked: dict[int, Slot] = field(default_factory=dict)
    wrong_grid: dict[int, Slot] = field(default_factory=dict)
    corrupt: dict[int, list[tuple[Slot, str]]] = field(default_factory=dict)
    clock_changes: dict[int, list[tuple[Slot, int]]] = field(default_factory=dict)
    mode_switches: dict[int, str] = field(default_factory=dict)
    beyond_bound: dict[int, Slot] = field(default_factory=dict)  # the day a clock runs past the server's bound
    date_fixed: dict[int, Slot] = field(default_factory=dict)  # the day that tablet's date is set right
    leader_only: dict[int, tuple[Slot, str]] = field(default_factory=dict)  # a worker tries "mode" or "members"

    def _day(self, wanted: int) -> int:
        return max(1, min(self.days, wanted))

    def assign(self, slots: list[Slot], rng: random.Random) -> None:
        """Pick the tablets; the special ones (disk, lost, wrong grid, clocks) are distinct workers when possible."""
        workers = [slot for slot in slots if slot.role == "worker"]
        leaders = [slot for slot in slots if slot.role != "worker"]
        rng.shuffle(workers)
        pool = leaders + workers  # taken from the end: workers first, leaders when workers run out

        def take() -> Slot:
            return pool.pop() if pool else rng.choice(slots)

        self.disk_slot = take()
        lost = take()
        wrong = take()
        ahead, behind = take(), take()
        torn, forged = take(), take()
        others = [slot for slot in workers if slot not in (self.disk_slot, lost, ahead)] or workers or slots
        far = next((slot for slot in others if slot is not wrong), others[0])
        meddlers = [slot for slot in others if slot is not far] or others
        self.disk_full[self._day(1)] = self.disk_slot
        if self.days >= 4:
            self.disk_full[4] = self.disk_slot
        self.revoked[self._day(2)] = lost
        far_day = 3 if self.days >= 5 else self._day(2)
        self.beyond_bound[far_day] = far
        self.clock_changes.setdefault(far_day, []).append((far, 9))
        if far_day < self.days:
            self.date_fixed[far_day + 1] = far
            self.clock_changes.setdefault(far_day + 1, []).append((far, 0))
        self.leader_only[self._day(3)] = (meddlers[0], "mode")
        if self.days >= 6:  # another worker, so that its refusal counts apart from the first
            self.leader_only[6] = (meddlers[1 % len(meddlers)], "members")
        for day in range(1, self.days + 1):
            # a save killed before it returns cannot be told apart from one the server will refuse
            busy = {id(self.disk_full.get(day)), id(self.revoked.get(day)), id(self.beyond_bound.get(day))}
            free = [slot for slot in slots if id(slot) not in busy]
            self.save_killed[day] = free[(day * 7) % len(free)]
            self.sync_killed[day] = free[(day * 5 + 3) % len(free)]
        self.wrong_grid[self._day(1)] = wrong
        self.corrupt.setdefault(self._day(2), []).append((torn, "torn"))
        self.corrupt.setdefault(self._day(3), []).append((forged, "forged"))
        self.clock_changes.setdefault(self._day(1), []).append((ahead, 3))
        self.clock_changes.setdefault(self._day(2), []).append((behind, -2))
        if self.days >= 5:
            self.clock_changes.setdefault(self.days - 1, []).append((ahead, 0))
        wartime, normal = (2, 4) if self.days >= 5 else (1, 2)
        if self.days >= 2:
            self.mode_switches[wartime] = "wartime"
            self.mode_switches[normal] = "normal"
        else:
            self.mode_switches[1] = "wartime"

    def mode_on(self, day: int) -> str:
        """The mode the grids are in at the end of ``day``."""
        mode = "normal"
        for switch_day in sorted(self.mode_switches):
            if switch_day <= day:
                mode = self.mode_switches[switch_day]
        return mode
