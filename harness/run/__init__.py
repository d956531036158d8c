"""The run: one object that owns a validation's state, produces what checks need on first use,
records every result and ends once (:mod:`harness.run.runner`, :mod:`harness.run.steps`,
:mod:`harness.run.end`, :mod:`harness.run.preflight`)."""
