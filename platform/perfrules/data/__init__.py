"""CRM data: records of the admin-defined datasets, their ingestion, and demo data."""
