"""Full-text search: one interface (``base``), a PostgreSQL and an Elasticsearch backend.

Backends get documents and a parsed query and know nothing of records, roles or GraphQL;
``aica.services.search`` builds the documents from the database and the scope from the actor.
"""
