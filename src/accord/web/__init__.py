"""The web portal: server-rendered pages (Jinja2, htmx) over the same services as the API.

Templates stay dumb (no queries, no access decisions); page handlers call `accord.intel` and
`accord.store` exactly as the API routes do, so the API, the command line and the portal give
the same answer to the same person.
"""
