"""The safety promises: each test file is one promise a user can rely on (docs/safety.md)."""
