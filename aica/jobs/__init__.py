"""The job side, an entry point like ``graphql`` and the CLI: pgqueuer consumers and the record
job. It calls services (the stage list lives in ``aica.services.pipeline``), never the reverse."""
