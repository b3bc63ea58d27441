"""Write docs/examples/campaign-typhoon.xlsx: the typhoon-evacuation template as the town office fills it in.

Run from the repository's root: ``python docs/examples/make_campaign_example.py``; then
``field-server campaign create --from docs/examples/campaign-typhoon.xlsx`` defines the campaign.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from field_agent.ledgers.campaign_sheet_template import write_campaign_template

OUT = Path(__file__).with_name("campaign-typhoon.xlsx")

if __name__ == "__main__":
    write_campaign_template(
        OUT,
        "typhoon",
        key="typhoon-2026-12",
        name="防台风转移（12月，台风“海葵”）",
        starts=dt.date(2026, 12, 6),
        ends=dt.date(2026, 12, 9),
        grids=("东门社区第一网格", "东门社区第二网格"),
    )
    print(OUT)
