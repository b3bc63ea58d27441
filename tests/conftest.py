"""Suite-wide settings: cheap key derivation for test stores (recorded in each store's header), and a server data
directory of the test run's own, so that no test writes a server key (or anything else) into the user's data dir."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("FIELD_AGENT_KDF_PROFILE", "test")
os.environ.setdefault("FIELD_SERVER_DATA_DIR", tempfile.mkdtemp(prefix="field-server-tests-"))

if os.environ["FIELD_SERVER_DATA_DIR"].startswith(os.path.join(tempfile.gettempdir(), "field-server-tests-")):
    import atexit
    import shutil

    atexit.register(shutil.rmtree, os.environ["FIELD_SERVER_DATA_DIR"], True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the crash-state counts the store's checker recorded (tests/store/crashstates), also under xdist."""
    lines = [
        f"{report.nodeid.rsplit('::', 1)[-1].split('@')[0]}: {value}"
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "crash_states"
    ]
    if lines:
        terminalreporter.section("crash states checked")
        for line in lines:
            terminalreporter.write_line(line)
