"""Cluster targets' machinery, in three parts:

- :mod:`harness.cluster.provision`: providers (kind, minikube, kubeconfig), the pinned
  versions, the Kubeflow installer and the plan of bringing a cluster up;
- :mod:`harness.cluster.kube`: the Kubernetes plumbing every part uses (commands, kubectl,
  port-forwards, readiness, diagnostics, manifests, pod metrics, credentials);
- :mod:`harness.cluster.kubeflow`: KFP runs, KServe serving and in-cluster load.

Every external command (and the installer's one download) goes through
:class:`~harness.cluster.kube.commands.CommandRunner`, so
the whole flow is testable without a cluster (see ``tests/test_cluster_*.py``).
"""
