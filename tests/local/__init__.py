"""A package, so that this directory's conftest.py is imported as `local.conftest`.

Without it both conftest.py files of the suite are imported under the one
name `conftest`, and `from conftest import ...` in tests/ finds the wrong one.
"""
