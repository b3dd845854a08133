"""Tests of the watch and serve services (a package: its conftest is not the incidents' one)."""
