"""The GraphQL API: schema, context, thin resolvers over ``aica.services``."""
