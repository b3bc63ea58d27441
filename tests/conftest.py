"""Suite-wide settings: cheap key derivation for test stores (recorded in each store's header)."""

from __future__ import annotations

import os

os.environ.setdefault("FIELD_AGENT_KDF_PROFILE", "test")
