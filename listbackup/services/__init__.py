"""Business rules and authorization, one module per domain; they raise domain errors only."""
