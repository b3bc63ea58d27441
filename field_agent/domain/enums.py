"""Every fixed list of keys the records use, in one place (labels live in the UI catalogs).

The keys are the contract of docs/RECORDS.md; order is the order a form or report shows them in.
"""

from __future__ import annotations

RECORD_KINDS = (
    "grid",
    "household",
    "resident",
    "visit",
    "sampling_round",
    "sampling",
    "followup",
    "task",
    "campaign",
    "campaign_result",
)

GRID_MODES = ("normal", "wartime")

RESIDENCY_TYPES = ("resident", "floating", "away")
"""resident: registered, living here; floating: living here, registered elsewhere; away: moved out."""

ISOLATION_STATUSES = ("none", "home", "ended")

RECORDED_GROUPS = ("chronic", "disabled", "bedridden", "pregnant")
"""Special groups a worker records; the others are derived from the ID number."""

DERIVED_GROUPS = ("elderly", "very_old", "infant")

SPECIAL_GROUPS = DERIVED_GROUPS + RECORDED_GROUPS

VISIT_OUTCOMES = ("met", "nobody_home", "refused", "vacant")

ROUND_STATUSES = ("open", "closed")

SAMPLING_STATUSES = ("scheduled", "sampled", "missed", "refused", "exempt")

SAMPLING_DONE_STATUSES = ("sampled", "exempt")
"""A resident with one of these in the current round is not on the "nobody left out" list."""

CAMPAIGN_STATUSES = ("active", "closed")
"""A campaign record's own status: the office closes one; its dates say when it runs."""

TASK_KINDS = ("publicity", "patrol", "disinfection", "delivery", "sampling", "visit", "other")

TASK_STATUSES = ("open", "in_progress", "done", "cancelled")

OPEN_TASK_STATUSES = ("open", "in_progress")
"""Tasks still being worked on: the ones a mode switch moves."""

SYMPTOMS = (
    "fever",
    "cough",
    "sore_throat",
    "fatigue",
    "loss_of_smell",
    "shortness_of_breath",
    "diarrhoea",
    "other",
)

SEXES = ("male", "female")
