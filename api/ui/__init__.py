"""The web console: server-rendered pages whose scripts call the same HTTP API as every other client."""
