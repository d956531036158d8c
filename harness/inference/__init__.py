"""Talking to inference servers: the REST (V1, V2) and gRPC (V2) clients, the protobufs,
reading their answers, finding which protocols a server speaks, and the TLS rule."""
