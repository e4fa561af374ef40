"""Doors into the core: one package per chat platform, each parse -> call -> render."""
