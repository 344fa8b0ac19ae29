"""presence-dash: a real-time presence dashboard for support teams."""

__version__ = "0.1.0"
