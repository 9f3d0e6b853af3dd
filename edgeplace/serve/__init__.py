"""The placement API: Ray Serve with a FastAPI ingress (DESIGN.md "Serving").

``edgeplace.serve.app:build_app`` is the Serve application builder (``serve run``,
``serve_config.yaml``); :func:`edgeplace.serve.server.run_server` starts it from Python or the CLI.
Nothing is imported here, so importing a submodule does not import Ray Serve before the server has
set Serve's environment switches.
"""
