"""Configuration as code: stored documents, YAML load and export, versions."""
