"""One module per claim; each defines CLAIM (a registry.Claim)."""
