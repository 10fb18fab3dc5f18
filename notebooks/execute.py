"""Executes a notebook top to bottom, as CI does, and fails on the first cell that raises.

    target/python-venv/bin/python notebooks/execute.py notebooks/cdnow_evaluation.ipynb [OUT.ipynb]

Cells run with notebooks/ as the working directory. The executed copy (with outputs) is written to
OUT.ipynb if given.
"""
import os
import sys

import nbclient
import nbformat

path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
client = nbclient.NotebookClient(
    notebook,
    timeout=600,
    kernel_name="python3",
    resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
)
client.execute()
if len(sys.argv) > 2:
    nbformat.write(notebook, sys.argv[2])
print(f"executed {path}: {len(notebook.cells)} cells")
