"""Closed forms the claims compare against, one module per paper.

Each formula is a sympy expression defined once; the numeric functions are lambdified from
it, and proofs_checks/ import the same expressions, so derivation and code cannot drift.
"""
