"""A third-party plugin whose import fails: the daemon must report it and carry on."""

raise ImportError("sitroom_broken_plugin needs a library that is not installed")
