"""Handouts and media: print images, contact sheets, PDF handouts, sweep videos (no Qt)."""
