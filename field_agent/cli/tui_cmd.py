"""``field-agent tui``: open the terminal app (the only command that loads Textual)."""

from __future__ import annotations

import click


@click.command(name="tui")
@click.pass_context
def tui_command(ctx: click.Context) -> None:
    """Open the terminal app on the store (unlock, or first run when there is none)."""
    from field_agent.tui.app import make_app

    root = ctx.find_root().obj
    make_app(root["store_path"], lang=root.get("lang")).run()
