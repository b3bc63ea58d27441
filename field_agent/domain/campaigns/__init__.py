"""Campaigns: door-to-door work that must reach every person it targets (应检尽检、不漏一人), defined as data.

A campaign (``definition.Campaign``) names whom it must reach (``target.TargetRule``), what a worker records for
each of them (the form: typed fields) and which outcomes count as done, excused or still open. Everything that
follows from it (the target list, form validation, progress, the "nobody left out" list, the ledger and the
office's coverage) is worked out from the definition by the same code for every campaign: a home sampling round,
a vaccination drive, a typhoon evacuation, a winter welfare check and a supplies distribution differ only in data
(``templates``). See docs/DOMAIN.md, "Campaigns".
"""
