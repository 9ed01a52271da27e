"""The fuzzer of issue 9 §6: grammar- and mutation-based requests to a real server."""
