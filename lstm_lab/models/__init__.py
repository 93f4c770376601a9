"""Forecasters, the networks they train, and how they train."""
