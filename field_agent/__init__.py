"""Field Agent: offline field-data tool for community grid workers."""

__version__ = "0.1.0"
