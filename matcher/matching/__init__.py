"""The bridge between the database and the pure engine: adapters, the model registry, recommendations,
assignment drafts."""
