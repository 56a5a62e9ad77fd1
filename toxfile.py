"""tox plugin (loaded by tox 4 from the project root): find pyenv's interpreters.

pyenv's shims answer only for the versions made active, so ``py39`` … ``py313`` would
be "not found" on a machine where pyenv holds them all. Appending every
``$PYENV_ROOT/versions/*/bin`` to PATH lets virtualenv's discovery find each
``python3.X`` by name, whatever patch release is installed. Where pyenv is absent this
does nothing, and interpreters on PATH are found as usual.
"""

from __future__ import annotations

import glob
import os

_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
_bins = sorted(glob.glob(os.path.join(_root, "versions", "*", "bin")))
if _bins:
    os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), *_bins])
