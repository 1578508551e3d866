# Metadata and packaging live in pyproject.toml; this shim keeps `setup.py`-based tooling working.
from setuptools import setup

setup()
