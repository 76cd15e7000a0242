"""Proof under faults, bad input and load (issue 7): the suite that turns "it keeps working" into figures.

A package, like tests/local, so its modules import each other's helpers by
package name and never collide with another directory's conftest.
"""
