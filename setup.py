"""Packages are found, not listed: the core, and the zoo and the targets installed under it."""
from setuptools import find_packages, setup

ROOTS = {"spikemem": "spikemem", "spikemem.models": "models", "spikemem.hardware": "hardware"}

packages, package_dir = [], {}
for name, folder in ROOTS.items():
    package_dir[name] = folder
    packages += [name] + [f"{name}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=package_dir)
