"""Hooks the runtime registers through the ``kedro.hooks`` entry point: ``settings.py`` needs nothing."""
