"""The Discord door: discord.py slash commands and buttons over the shared Recommender."""
