"""A third-party plugin whose `fancy` extra is not installed: the loader must refuse it
before importing it, so importing it is a test failure of its own."""

raise AssertionError("the loader imported a plugin whose extra is missing")
