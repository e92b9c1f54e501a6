"""Workspace placeholder."""
