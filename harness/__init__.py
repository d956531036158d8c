"""mlharness: validate an ML deployment on Kubeflow end to end.

The library layer. It never imports pytest (``fixtures/`` is where pytest meets it)
and never imports locust in the harness process (load runs in its own process).
"""

__version__ = "0.1.0"
