"""The central dashboard: every branch live, in a browser (docs/central.md).

:func:`~appliance.central.web.app.create_app` builds the aiohttp
application; :func:`~appliance.central.web.server.serve` runs it in a thread
of the central service.
"""
