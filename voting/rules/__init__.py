"""Importing this package registers every rule with :mod:`voting.registry`."""

from . import cardinal, committees, irv, kemeny, majority_judgment, pairwise, phragmen, positional

__all__ = ["cardinal", "committees", "irv", "kemeny", "majority_judgment", "pairwise", "phragmen", "positional"]
