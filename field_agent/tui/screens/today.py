"""Today: the round, sampling coverage, isolation checks due, my tasks and sync state at a glance."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import ProgressBar, Static

from field_agent.tui.queries.today import TodaySummary
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.session import Session
from field_agent.tui.timefmt import short_time
from field_agent.tui.widgets.app_button import AppButton


class TodayScreen(SessionScreen):
    """The first screen after unlock."""

    NAV = "today"
    BINDINGS = [
        Binding("v", "app.goto('households')", "key.start_visits", id="today.goto.households"),
        Binding("p", "app.goto('sampling')", "key.sampling", id="today.goto.sampling"),
        Binding("i", "app.goto('isolation')", "key.isolation", id="today.goto.isolation"),
        Binding("s", "app.goto('sync')", "key.sync", id="today.goto.sync"),
        Binding("r", "reload", "key.refresh", id="today.reload"),
    ]

    class Loaded(Message):
        def __init__(self, summary: TodaySummary) -> None:
            super().__init__()
            self.summary = summary

    def compose_body(self) -> ComposeResult:
        yield Static("", id="mode-banner")
        with Grid(id="today-cards"):
            with Vertical(classes="card", id="round-box") as box:
                box.border_title = self.t("today.round")
                yield Static("", id="card-round")
                yield ProgressBar(id="round-bar", show_eta=False, show_percentage=True)
            for name in ("sampling", "isolation", "tasks", "sync"):
                card = Static("", id=f"card-{name}", classes="card")
                card.border_title = self.t(f"today.{name}")
                yield card
        with Horizontal(classes="actions"):
            yield AppButton(self.t("key.start_visits"), "app.goto('households')", variant="primary")
            yield AppButton(self.t("key.sampling"), "app.goto('sampling')")
            yield AppButton(self.t("key.isolation"), "app.goto('isolation')")
            yield AppButton(self.t("key.sync"), "app.goto('sync')")

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.load(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session) -> None:
        summary = session.today_numbers()
        self.post_message(self.Loaded(summary))

    def on_today_screen_loaded(self, message: TodayScreen.Loaded) -> None:
        t, s = self.t, message.summary
        banner = self.query_one("#mode-banner", Static)
        text = t(f"today.banner.{s.mode}", grid=escape(s.grid_name), worker=escape(s.worker), date=self.session.today)
        if s.until:  # a temporary member's device: their kind and last day
            text += t("today.temporary", kind=escape(t.label("temporary", s.role)), until=escape(s.until))
        banner.update(text)
        banner.set_class(s.mode == "wartime", "-wartime")
        self.query_one("#card-round", Static).update(
            t("today.round_text", today=s.checked_today, total=s.households_total, round=s.checked_round)
        )
        bar = self.query_one("#round-bar", ProgressBar)
        bar.update(total=max(s.households_total, 1), progress=s.checked_round)
        if s.round_name is None:
            sampling = t("today.no_round")
        else:
            sampling = t(
                "today.sampling_text",
                round=escape(s.round_name),
                done=s.sampling_done,
                eligible=s.sampling_eligible,
                missing=s.sampling_missing,
            )
        self.query_one("#card-sampling", Static).update(sampling)
        isolation = t("today.isolation_text", due=s.isolation_due, checked=s.isolation_checked)
        if s.flagged_today:
            isolation += "\n" + t("today.flagged", count=s.flagged_today)
        self.query_one("#card-isolation", Static).update(isolation)
        lines = [t("today.tasks_text", count=len(s.my_tasks))]
        lines += [f"• {escape(task.get('title') or '')} ({task.get('due') or ''})" for task in s.my_tasks[:3]]
        self.query_one("#card-tasks", Static).update("\n".join(lines))
        sync = t(
            "today.sync_text",
            pending=s.pending,
            last=short_time(s.last_sync, self.zone) if s.last_sync else t("today.never"),
            conflicts=s.conflicts,
        )
        if s.stale:
            sync += "\n" + t("today.stale")
        card = self.query_one("#card-sync", Static)
        card.update(sync)
        card.set_class(s.stale or s.conflicts > 0, "-warning")
