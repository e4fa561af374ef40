"""The Telegram door: python-telegram-bot handlers over the shared Recommender."""
