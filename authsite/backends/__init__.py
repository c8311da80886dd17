"""Database backends: Django's, with the connection health check made cheap
(``mysql``; README, "Benchmark")."""
