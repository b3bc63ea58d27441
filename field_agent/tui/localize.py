"""Binding descriptions in the active language: classes declare catalog keys, nodes show their translation."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import BindingsMap
from textual.dom import DOMNode

from field_agent.tui.i18n import Translator

_ORIGINAL = "_field_agent_binding_keys"


def localize_bindings(node: DOMNode, t: Translator) -> None:
    """Rebuild a node's bindings with translated descriptions; callable again after a language change."""
    originals: list = getattr(node, _ORIGINAL, None) or [binding for _key, binding in node._bindings]
    setattr(node, _ORIGINAL, originals)
    localized = BindingsMap()
    for binding in originals:
        description = t(binding.description) if t.has(binding.description) else binding.description
        localized._add_binding(replace(binding, description=description))
    node._bindings = localized
