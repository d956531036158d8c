"""Work on a Kubeflow cluster: pipeline runs on KFP (and their pods), the model served as a
KServe InferenceService, and load driven from inside the cluster."""
