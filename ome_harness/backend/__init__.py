"""The reference backend: the stream workflows users verify, as a real HTTP service over SQLAlchemy.

Import from the submodules (`server.BackendServer`, `client.BackendClient`, `settings.BackendSettings`):
the package itself stays light so the CLI does not load the web framework for other commands.
"""
