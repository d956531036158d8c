"""Sub-commands of the ``mlharness`` CLI, one module each.

Each module defines ``NAME``, ``HELP``, ``register(parser)`` (adds its arguments) and
``main(args) -> int`` (the exit code). :mod:`harness.cli.main` lists them in ``COMMANDS``.
"""
