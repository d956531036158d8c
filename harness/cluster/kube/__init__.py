"""Kubernetes plumbing for the cluster targets: the command-runner seam, kubectl with the run's
own kubeconfig, port-forwards, readiness waits, diagnostics, the manifests a run applies,
pod metrics and Kubeflow credentials."""
