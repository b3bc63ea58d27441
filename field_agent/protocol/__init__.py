"""The sync contract, shared by the tablet's store and sync agent and by the town server.

``merge``: the merge rules (how a change or a replica joins a record, and the conflicts it opens). ``wire``: the
wire format of ``/v1/`` (one schema, validated with pydantic, for the server's reading of a push and the tablet's
checks of what it sends and receives). Below store, sync and server; it imports only the domain and pydantic.
"""
