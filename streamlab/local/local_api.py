"""The moto server streamlab runs, plus one read-only route of its own.

SNS on the emulator cannot deliver email, and no AWS call lists what was published to a topic. moto
keeps it in memory, and its own `/moto-api/data.json` dump breaks once a Lambda function exists
(it asks Docker). So streamlab's emulator process serves `GET /_streamlab/sns-messages`: every message
published to every topic, oldest first, as JSON; `streamlab local messages` reads it. Everything
else goes to moto unchanged. Still bound to 127.0.0.1 only.
"""

from __future__ import annotations

import json
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

MESSAGES_PATH = "/_streamlab/sns-messages"


def sns_messages() -> list[dict[str, Any]]:
    """What this process's moto has seen published, per topic (in this process only)."""
    from moto.sns.models import sns_backends

    out: list[dict[str, Any]] = []
    for account, regions in list(sns_backends.items()):
        for region, backend in list(regions.items()):
            for arn, topic in list(backend.topics.items()):
                for n in list(topic.sent_notifications):
                    message_id, message, subject = n[0], n[1], n[2]
                    out.append({"topic": arn, "message_id": message_id, "subject": subject, "message": message})
    return out


def with_streamlab_routes(app):
    def wsgi(environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == MESSAGES_PATH:
            body = json.dumps(sns_messages()).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return wsgi


class StreamlabMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer with `with_streamlab_routes` in front of moto's application."""

    def _server_entry(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        app = with_streamlab_routes(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
