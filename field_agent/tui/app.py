"""The Field Agent terminal app: unlock, navigation between the day's screens, language and auto-lock."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from textual import events, on, work
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen

from field_agent.store import Store
from field_agent.tui.app_base import FieldAppBase
from field_agent.tui.commands import FieldCommands
from field_agent.tui.enrolment import AgentFactory, EnrollFunction
from field_agent.tui.i18n import Translator, resolve_language
from field_agent.tui.screens import main_screen
from field_agent.tui.screens.unlock import UnlockScreen
from field_agent.tui.session import Session, wall_now
from field_agent.tui.widgets.nav import NAV_ITEMS, WIDE_FROM

SCREENS_ORDER: tuple[str, ...] = NAV_ITEMS
"""The main screens in the order of their F keys (F1 Today ... F8 Settings) and of the navigation bar."""
IDLE_CHECK_SECONDS = 5.0
SWITCH_INTERVAL_S = 0.001
"""Python's default 5 ms GIL switch interval delays every hand-off between the event loop and a thread worker
(measured: search keystroke median 59 ms -> 27 ms on a busy 2-core machine); the app's workers are short."""


class FieldAgentApp(FieldAppBase):
    """A grid worker's day: every screen reads the unlocked session; store work runs in thread workers."""

    CSS_PATH = "app.tcss"
    TITLE = "Field Agent"
    COMMANDS = {FieldCommands}
    """The palette's one provider: every screen and key by name, pinyin or key, in the active language."""
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]
    """Screens are ``-narrow`` below 120 columns (an 80x24 terminal), ``-wide`` from there (a tablet's 160x48)."""
    BINDINGS = [
        # Descriptions are catalog keys, translated where they are drawn (key bar, palette); ids let a keymap
        # (``App.set_keymap``) rebind them.
        *(
            Binding(f"f{n}", f"goto('{name}')", f"nav.{name}", show=False, id=f"goto.{name}")
            for n, name in enumerate(SCREENS_ORDER, start=1)
        ),
        Binding("ctrl+p", "command_palette", "key.palette", priority=True, id="command_palette"),
        Binding("ctrl+l", "lock", "key.lock", priority=True, id="lock"),
        Binding("ctrl+q", "quit", "key.quit", priority=True, id="quit"),
    ]

    def __init__(
        self,
        store_path: Path,
        *,
        lang: str | None = None,
        store: Store | None = None,
        now: Callable[[], datetime] = wall_now,
        environ: Mapping[str, str] | None = None,
        idle_clock: Callable[[], float] = time.monotonic,
        agent_factory: AgentFactory | None = None,
        enroll_with: EnrollFunction | None = None,
        demo_passphrase: str | None = None,
    ) -> None:
        self.store_path = Path(store_path)
        self.demo_passphrase = demo_passphrase
        self.explicit_language = lang
        self.environ = dict(os.environ if environ is None else environ)
        self.now = now
        self.idle_clock = idle_clock
        self.t = Translator(resolve_language(lang, None, self.environ))
        self.session: Session | None = None
        self.auto_lock_seconds = 5 * 60.0
        self.last_input = idle_clock()
        self._given_store = store
        self.agent_factory = agent_factory
        self.enroll_with = enroll_with
        self._prepared = True
        self._switch_interval: float | None = None
        self._owns_gc_freeze = False
        super().__init__()
        self.title = self.t("app.title")

    # ----------------------------------------------------------------- start, unlock, lock
    def on_mount(self) -> None:
        # The interval is the whole process's: taken as it is now (not when the app was built), given back on exit.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        # gc.unfreeze() on exit releases every frozen object: freeze only if nothing else had frozen any.
        self._owns_gc_freeze = gc.get_freeze_count() == 0
        self.set_interval(IDLE_CHECK_SECONDS, self.check_idle)
        if self._given_store is not None:
            store, self._given_store = self._given_store, None
            self.push_screen(UnlockScreen(self.store_path, opening=True))
            self.open_given_store(store)
        else:
            self.push_screen(UnlockScreen(self.store_path))

    def on_unmount(self) -> None:
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None
        if self._owns_gc_freeze:
            self._owns_gc_freeze = False
            gc.unfreeze()

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock")
    def open_given_store(self, store: Store) -> None:
        session = Session(store, self.now)
        session.prefetch_today()
        self.post_message(UnlockScreen.Unlocked(session))

    async def on_unlock_screen_unlocked(self, message: UnlockScreen.Unlocked) -> None:
        session = message.session
        self.session = session
        setting_language = session.setting("language")
        self.auto_lock_seconds = float(session.setting("auto_lock_minutes") or 5) * 60
        self.last_input = self.idle_clock()
        self.set_language(resolve_language(self.explicit_language, setting_language, self.environ))
        self._prepared = False
        await self.goto("today")

    def on_today_screen_loaded(self) -> None:
        """Once Today shows its numbers, build the search index and the read model in the background (not before:
        they would compete with Today for the one interpreter)."""
        if self.session is not None and not self._prepared:
            self._prepared = True
            # After Today's numbers are drawn: the index build holds the interpreter for long stretches.
            self.screen.call_after_refresh(self._start_preparing)

    def _start_preparing(self) -> None:
        if self.session is not None:
            self.prepare_session(self.session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="warm")
    def prepare_session(self, session: Session) -> None:
        session.prepare()
        if self._owns_gc_freeze:
            # The store's tables, the search index and the read model live as long as the session: frozen, later
            # full collections skip them (they rescanned ~800,000 objects, 80-170 ms pauses in search). Unfrozen
            # on exit; a lock frees them by refcounting (they hold no reference cycles).
            gc.freeze()

    async def action_lock(self) -> None:
        """Drop the store and its key, and show the unlock screen."""
        session, self.session = self.session, None
        if session is None:
            return
        saving = [worker for worker in self.workers if worker.group == "save" and worker.is_running]
        if saving:
            await self.workers.wait_for_complete(saving)
        self.workers.cancel_all()
        session.close()
        await self._replace_stack(UnlockScreen(self.store_path))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Lock and the screen keys only exist while the store is unlocked."""
        return self.session is not None or action not in ("lock", "goto")

    def check_idle(self) -> None:
        """Lock after the configured idle time (timer callback)."""
        if self.session is not None and self.idle_clock() - self.last_input >= self.auto_lock_seconds:
            self.call_later(self.action_lock)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown | events.MouseScrollUp):
            self.last_input = self.idle_clock()
        await super().on_event(event)

    # ----------------------------------------------------------------- navigation
    async def action_goto(self, name: str) -> None:
        if self.session is not None:
            await self.goto(name)

    async def goto(self, name: str) -> None:
        """Show one of the main screens, closing any detail screens above it. The worker has moved on: the toasts
        of the last screen go (at 80 columns they would cover half of the new one), and with them an undo offer."""
        self.clear_notifications()
        self.undo_offer = None
        await self._replace_stack(self.make_screen(name))

    def make_screen(self, name: str) -> Screen[None]:
        return main_screen(name)

    async def _replace_stack(self, screen: Screen[None]) -> None:
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(screen)

    # ----------------------------------------------------------------- language
    def set_language(self, language: str) -> None:
        if language == self.t.language:
            return
        self.t = Translator(language)
        self.title = self.t("app.title")
        for screen in self.screen_stack:
            screen.refresh_bindings()  # key bars draw the descriptions in the new language

    @on(events.ScreenResume)
    def _screen_resumed(self) -> None:
        self.refresh_bindings()

    def action_command_palette(self) -> None:
        """The command palette, its search box prompting in the active language."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(CommandPalette(placeholder=self.t("palette.placeholder"), id="--command-palette"))

    # ----------------------------------------------------------------- crashes
    def _fatal_error(self) -> None:
        """Exit after an unhandled error with a traceback that shows no local variables.

        Textual's own crash report lists every frame's locals, which here hold residents' names, full ID numbers
        and phones; the report goes to stderr, which a launcher may well write to a file. Textual 8 has no public
        hook for the report of an unhandled error, so this overrides the one method that draws it, and hands the
        traceback to the public ``panic`` (which shows renderables on exit and closes the app) without copying it.
        """
        import rich
        from rich.traceback import Traceback

        self.bell()
        self.panic(Traceback(show_locals=False, width=None, suppress=[rich]))


def make_app(
    store_path: Path,
    lang: str | None = None,
    store: Store | None = None,
    now: Callable[[], datetime] = wall_now,
    environ: Mapping[str, str] | None = None,
    idle_clock: Callable[[], float] = time.monotonic,
    agent_factory: AgentFactory | None = None,
    enroll_with: EnrollFunction | None = None,
    demo_passphrase: str | None = None,
) -> FieldAgentApp:
    """The one way the CLI and the tests build the app.

    ``store`` is an already open store (no unlock screen); ``agent_factory`` builds the sync agent for a store
    (tests give one with an in-process transport), ``enroll_with`` enrols a new store on first run (likewise);
    ``now`` and ``idle_clock`` let tests freeze time; ``demo_passphrase`` is shown under the unlock prompt (only the
    demo store, whose passphrase is public, passes one).
    """
    return FieldAgentApp(
        store_path,
        lang=lang,
        store=store,
        now=now,
        environ=environ,
        idle_clock=idle_clock,
        agent_factory=agent_factory,
        enroll_with=enroll_with,
        demo_passphrase=demo_passphrase,
    )
