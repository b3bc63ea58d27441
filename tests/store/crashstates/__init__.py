"""Crash states proven, not sampled: record the store's file operations, rebuild every state a crash could leave."""
