"""Tests of metrics, health and readiness, and of the container files."""
