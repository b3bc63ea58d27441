"""Picking a file on the tablet: a path field that completes folder and file names (Tab, or → for the grey
suggestion) and a folder tree that shows only folders and the files that can be picked."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from pathlib import Path

from textual.actions import SkipAction
from textual.binding import Binding
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import DirectoryTree, Input


def expand(typed: str, base: Path | None = None) -> Path:
    """The path a worker typed (``~`` is the home folder; a relative path is under ``base``, else the working
    folder)."""
    path = Path(os.path.expanduser(typed.strip()))
    return path if path.is_absolute() or base is None else base / path


def pickable(path: Path, suffixes: tuple[str, ...]) -> bool:
    """A file of one of ``suffixes`` (not hidden, not an office lock file such as ``~$名单.xlsx``)."""
    name = path.name
    return path.suffix.lower() in suffixes and not name.startswith((".", "~$"))


def completions(typed: str, suffixes: tuple[str, ...], base: Path | None = None) -> list[str]:
    """What ``typed`` may go on to: the folders (ending in ``/``) and pickable files whose names start with what
    was typed after the last ``/``, written as typed (``~/名`` -> ``~/名单.xlsx``); sorted, folders and files mixed.
    A relative path is under ``base``."""
    if not typed.strip():
        return []
    folder_part, _, stem = typed.rpartition(os.sep)
    folder = expand(folder_part + os.sep if folder_part or typed.startswith(os.sep) else ".", base)
    prefix = typed[: len(typed) - len(stem)]
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    found = []
    for entry in entries:
        name = entry.name
        if not name.startswith(stem) or (name.startswith(".") and not stem.startswith(".")):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            found.append(prefix + name + os.sep)
        elif pickable(Path(name), suffixes):
            found.append(prefix + name)
    return sorted(found)


def shared_start(texts: list[str]) -> str:
    """The characters every one of ``texts`` starts with (a name's start, not only whole folders)."""
    if not texts:
        return ""
    first, last = min(texts), max(texts)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


class PathSuggester(Suggester):
    """Suggests the first folder or file a typed path may go on to (shown in grey; → takes it)."""

    def __init__(self, suffixes: tuple[str, ...]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.suffixes = suffixes
        self.base: Path | None = None

    async def get_suggestion(self, value: str) -> str | None:
        found = await asyncio.to_thread(completions, value, self.suffixes, self.base)
        return found[0] if found else None


class PathInput(Input):
    """A path field: Tab completes as a shell does (to what every match shares), else moves on as usual; the
    cursor starts at the end (typing goes on from the folder shown); a relative path is under ``base``."""

    BINDINGS = [Binding("tab", "complete", "key.complete_path")]

    def __init__(self, value: str, suffixes: tuple[str, ...], base: Path, **kwargs: object) -> None:
        self.suggesting = PathSuggester(suffixes)
        super().__init__(value, suggester=self.suggesting, select_on_focus=False, **kwargs)  # type: ignore[arg-type]
        self.suffixes = suffixes
        self.base = base

    @property
    def base(self) -> Path:
        return self._base

    @base.setter
    def base(self, folder: Path) -> None:
        self._base = folder
        self.suggesting.base = folder

    @property
    def path(self) -> Path:
        """The typed path, expanded."""
        return expand(self.value, self.base)

    def action_complete(self) -> None:
        found = completions(self.value, self.suffixes, self.base)
        shared = shared_start(found)
        if len(shared) <= len(self.value):
            raise SkipAction()  # nothing to add: Tab moves the focus on
        self.value = shared
        self.cursor_position = len(shared)


class FileTree(DirectoryTree):
    """Folders and the files of ``suffixes`` under ``path``; Backspace goes up one folder."""

    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "
    ICON_FILE = "  "
    """Plain marks: emoji folders are two cells wide in some terminals and one in others, and shift the rows."""

    BINDINGS = [Binding("backspace", "parent", "key.parent_folder")]

    def __init__(self, path: Path, suffixes: tuple[str, ...], **kwargs: object) -> None:
        super().__init__(path, **kwargs)  # type: ignore[arg-type]
        self.suffixes = suffixes

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        for path in paths:
            if path.name.startswith("."):
                continue
            if _is_dir(path) or pickable(path, self.suffixes):
                yield path

    class Moved(Message):
        """The tree shows another folder (Backspace went up)."""

        def __init__(self, tree: FileTree, folder: Path) -> None:
            super().__init__()
            self.tree = tree
            self.folder = folder

        @property
        def control(self) -> FileTree:
            return self.tree

    def action_parent(self) -> None:
        current = Path(self.path).expanduser().resolve()
        if current.parent != current:
            self.path = current.parent
            self.post_message(self.Moved(self, current.parent))


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False
