"""Frozen dataclasses for the domain; a leaf every layer may import."""
