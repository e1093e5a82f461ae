"""Domain logic shared by resolvers, workers and the CLI: no HTTP, no GraphQL."""
