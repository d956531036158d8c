"""Serving: the local sklearn runtime on KServe's model server, and how to start it."""
