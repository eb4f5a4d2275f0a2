"""What API Gateway sends, knowing no policy: the five event kinds (`kinds`), execute-api ARNs
(`arn`), reading values out of an event (`readers`), the request view rules read (`request`), and
building the exact event for a described request (`builder`)."""
