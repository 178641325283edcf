"""Every scenario of ``features/``, on the bookshop (``conftest.py``)."""

from pytest_bdd import scenarios

scenarios("features")
