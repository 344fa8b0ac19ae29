"""HTTP blueprints: pages, the JSON API, and health/metrics."""
