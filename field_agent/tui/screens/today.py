"""Today: the round, sampling coverage, the active campaigns, isolation checks due, my tasks and sync state at a
glance; a campaign's line opens its screen (Enter, or c for the highlighted one)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.markup import escape
from textual.message import Message
from textual.widgets import OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from field_agent.tui.app_base import field_app
from field_agent.tui.queries.campaigns import CampaignLine
from field_agent.tui.queries.today import TodaySummary
from field_agent.tui.screens.base import SessionScreen
from field_agent.tui.screens.campaign import CampaignScreen
from field_agent.tui.session import Session
from field_agent.tui.timefmt import short_time
from field_agent.tui.widgets.app_button import AppButton


class TodayScreen(SessionScreen):
    """The first screen after unlock."""

    NAV = "today"
    AUTO_FOCUS = "#campaign-list"
    """Up and Down choose a campaign, Enter opens it; the screen's letter keys work as well."""
    BINDINGS = [
        Binding("v", "app.goto('households')", "key.start_visits", id="today.goto.households"),
        Binding("p", "app.goto('sampling')", "key.sampling", id="today.goto.sampling"),
        Binding("i", "app.goto('isolation')", "key.isolation", id="today.goto.isolation"),
        Binding("s", "app.goto('sync')", "key.sync", id="today.goto.sync"),
        Binding("c", "open_campaign", "key.campaign", id="today.open_campaign"),
        Binding("r", "reload", "key.refresh", id="today.reload"),
    ]

    class Loaded(Message):
        def __init__(self, summary: TodaySummary) -> None:
            super().__init__()
            self.summary = summary

    class CampaignsLoaded(Message):
        def __init__(self, lines: list[CampaignLine]) -> None:
            super().__init__()
            self.lines = lines

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
            with Vertical(classes="card", id="campaigns-box") as box:
                box.border_title = self.t("today.campaigns")
                yield OptionList(
                    Option(self.t("today.campaigns_loading"), disabled=True), id="campaign-list", compact=True
                )
        with Horizontal(classes="actions"):
            yield AppButton(self.t("key.start_visits"), "app.goto('households')", variant="primary")
            yield AppButton(self.t("key.sampling"), "app.goto('sampling')")
            yield AppButton(self.t("key.isolation"), "app.goto('isolation')")
            yield AppButton(self.t("key.sync"), "app.goto('sync')")

    shown_once = False
    """Today's numbers were drawn once (a resume reloads them; the first load is the one made while unlocking)."""

    def on_mount(self) -> None:
        self.action_reload()

    def on_screen_resume(self) -> None:
        """Back from a campaign (or any screen above): its progress may have moved."""
        if self.shown_once and field_app(self).session is not None:  # (not while locking: the stack unwinds)
            self.action_reload()

    def action_reload(self) -> None:
        self.load(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load(self, session: Session) -> None:
        summary = session.today_numbers()
        self.post_message(self.Loaded(summary))

    @work(thread=True, exclusive=True, exit_on_error=False, group="campaigns")
    def load_campaigns(self, session: Session) -> None:
        """The campaigns' progress, after Today's numbers are on screen: it finds every campaign's targets among
        the grid's residents (the index's projection; still the longest part of Today at 30,000 residents)."""
        self.post_message(self.CampaignsLoaded(session.campaign_lines()))

    def on_today_screen_campaigns_loaded(self, message: TodayScreen.CampaignsLoaded) -> None:
        self.show_campaigns(message.lines)

    def on_today_screen_loaded(self, message: TodayScreen.Loaded) -> None:
        t, s = self.t, message.summary
        self.shown_once = True
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
        self.load_campaigns(self.session)

    def show_campaigns(self, lines: list[CampaignLine]) -> None:
        """One line per active campaign: its name, done or excused of its targets, how many are left out."""
        t, options = self.t, self.query_one("#campaign-list", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        if not lines:
            options.add_option(Option(t("today.no_campaigns"), disabled=True))
            return
        options.add_options(
            Option(
                t(
                    "today.campaign_line",
                    name=escape(line.name),
                    covered=line.covered,
                    targets=line.targets,
                    left=line.left_out,
                ),
                id=line.record_id,
            )
            for line in lines
        )
        options.highlighted = min(highlighted or 0, len(lines) - 1)

    def action_open_campaign(self) -> None:
        options = self.query_one("#campaign-list", OptionList)
        if options.highlighted is not None:
            self.open_campaign(options.get_option_at_index(options.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.open_campaign(event.option.id)

    def open_campaign(self, record_id: str | None) -> None:
        if record_id is not None:
            self.app.push_screen(CampaignScreen(record_id))
