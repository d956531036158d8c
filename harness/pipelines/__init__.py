"""Pipelines: the built-in iris pipeline, compiling, linting and running them."""
