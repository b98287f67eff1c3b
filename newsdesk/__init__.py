"""newsdesk: a self-hosted Discord bot that answers questions about the AI industry, with citations."""

__version__ = "0.1.0"
