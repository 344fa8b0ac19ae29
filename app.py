"""Run presence-dash: `python app.py [--config FILE] [--host H] [--port N]`.

With no config file found it starts the demo (simulators in-process on loopback).
"""

import sys

from presence_dash.launch import main

if __name__ == "__main__":
    sys.exit(main())
