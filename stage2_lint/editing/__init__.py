"""Changing files for the user: moving keys to where the contract wants them (``fix``) and
flattening a chain into one-hop leaves; every write goes through ``core.safe_write``."""
