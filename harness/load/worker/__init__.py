"""What runs inside locust's own processes: the locustfile and the plain modules beside it.

This folder imports nothing of the harness (an import-linter contract checks it): a locust
worker may run where the harness is not installed (a Kubernetes pod), so the locustfile loads
its siblings by path. The harness side may import these modules (the result-file format,
masking) to read what the workers write.
"""
