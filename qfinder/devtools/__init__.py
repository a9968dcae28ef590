"""Developer tools for tests and benchmarks (test-model builders). Never imported by the app."""
