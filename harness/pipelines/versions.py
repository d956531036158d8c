"""Pinned versions, in one place.

Pipeline components install these in their containers; the local target checks the
harness's own environment satisfies them. Cluster component versions (kind node image,
cert-manager, KServe, KFP) live in :mod:`harness.cluster.provision.versions`.
"""

BASE_IMAGE = "python:3.11.10-slim-bookworm"
PANDAS = "pandas==2.3.3"
SCIKIT_LEARN = "scikit-learn==1.9.1"
