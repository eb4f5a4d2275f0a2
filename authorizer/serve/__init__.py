"""`authorizer serve`: a local gateway that answers like API Gateway, in front of the real handler.

`identity` (which request values are identity sources), `iam` (what API Gateway does with an
authorizer's answer), `gateway` (one request → status and body, with the authorizer cache),
`page` (the HTML page for browsers), `app` (the aiohttp application: HTTP, WebSocket, proxy,
access log, policy reload).
"""
