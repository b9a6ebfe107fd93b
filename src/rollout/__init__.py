"""Rollout generation against vLLM rollout servers."""
