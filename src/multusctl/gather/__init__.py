"""All I/O that reads a node: a read-only view of a node root and the snapshot built from it."""
