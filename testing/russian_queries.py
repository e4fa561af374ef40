"""Russian search queries for well-known films of the bundled sample catalog, each with the
film a Russian speaker means: how the films are known in Russian (their distribution
titles), and a few by their plot. Written for the multilingual search test and
``benchmarks/bench_russian_queries.py``."""

from __future__ import annotations

RUSSIAN_QUERIES = (
    ("Крепкий орешек", "Die Hard"),
    ("Крёстный отец", "The Godfather"),
    ("Титаник", "Titanic"),
    ("Матрица", "The Matrix"),
    ("Назад в будущее", "Back to the Future"),
    ("Парк Юрского периода", "Jurassic Park"),
    ("Король Лев", "The Lion King"),
    ("Побег из Шоушенка", "The Shawshank Redemption"),
    ("Молчание ягнят", "The Silence of the Lambs"),
    ("Унесённые призраками", "Spirited Away"),
    ("Один дома", "Home Alone"),
    ("День сурка", "Groundhog Day"),
    ("полицейский сражается с террористами в небоскрёбе", "Die Hard"),
    ("акула нападает на пляжный курорт", "Jaws"),
    ("мальчик-волшебник поступает в школу магии", "Harry Potter and the Philosopher's Stone"),
    ("робот-мусорщик влюбляется в космосе", "WALL·E"),
)
"""(query, the title in the catalog of the film it means)."""
