"""The ``field-agent`` command line. Each command lives in its own module and is imported only when run."""
