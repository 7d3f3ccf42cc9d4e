"""Run one of upstream's AI scripts with Python's ``random`` seeded: ``python seeded.py SEED SCRIPT [ARGS...]``.

The baselines draw their fish order and their guesses from ``random`` (unseeded upstream); seeding it here makes a
game replayable from its seed. The script runs as ``__main__`` with its own folder first on ``sys.path``, exactly as
``python SCRIPT ARGS...`` would run it.
"""
import os
import random
import runpy
import sys


def main() -> None:
    seed, script = int(sys.argv[1]), os.path.abspath(sys.argv[2])
    sys.argv = [script, *sys.argv[3:]]
    sys.path[0] = os.path.dirname(script)
    random.seed(seed)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
