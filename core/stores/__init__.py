"""ProfileStore implementations: Redis in production, memory for the demo and tests."""
