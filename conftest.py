"""Root conftest: the mlharness plugin itself comes from the ``pytest11`` entry point.

``pytester`` is enabled for the harness's own plugin tests.
"""

pytest_plugins = ["pytester"]
