"""Tests of the Hydra (seed 004, API Platform) sandbox, provider and mapping."""
