"""friendsim-tui: turn chat logs with friends into a language model you can role-play with."""

__version__ = "0.1.0"
