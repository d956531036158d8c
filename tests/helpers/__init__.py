"""Helpers of the harness's own tests: test servers (one lifecycle, :mod:`.servers`), stubs,
fakes of upstream systems, and example models. No tests live here."""
