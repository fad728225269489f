"""Open data: daily aggregated, non-personal exports for the city's open-data portal."""
