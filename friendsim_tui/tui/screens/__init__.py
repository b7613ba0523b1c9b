"""Screens: home, import, and the small dialogs they share."""
