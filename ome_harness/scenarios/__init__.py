"""The Gherkin layer: fixtures that build the target from config, and the `ome-harness run` driver."""
