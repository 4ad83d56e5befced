"""Where the MIT-BIH Arrhythmia Database is: $SINUS_MITDB, else shared/data/mitdb beside this
checkout or any parent directory (the same rule as sinus_io::datasets::find_mitdb)."""
import os
import sys


def find_db():
    env = os.environ.get("SINUS_MITDB")
    if env:
        return env
    here = os.path.abspath(os.path.dirname(__file__))
    while True:
        cand = os.path.join(here, "shared", "data", "mitdb")
        if os.path.isfile(os.path.join(cand, "100.hea")):
            return cand
        parent = os.path.dirname(here)
        if parent == here:
            sys.exit("MIT-BIH not found: set SINUS_MITDB")
        here = parent
