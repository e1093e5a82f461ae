"""GraphQL types, queries and mutations, one module per domain."""
