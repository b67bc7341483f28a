"""A local S3 server (moto's) with faults on demand, for tests/test_remote*.py and docs/remote.md.

``python tests/remote_s3_server.py PORT`` serves on 127.0.0.1:PORT until killed.  Faults, by name:

* bucket ``locked``: every request is refused (403 AccessDenied), as for a bucket one may not list;
* a key holding ``forbidden``: its GET is refused (403), as for an object one may not read;
* a key holding ``cutoff``: its GET sends half the body, then the connection drops (a network failure
  mid-file); a key holding ``cutlate``: the same, but only for GETs of a range that does not start at
  byte 0 (the first request for a file succeeds, a later one fails).

``GET /_requests`` answers the requests served so far, as JSON (the S3 API never uses that path):
``{"counts": {method: n}, "log": ["GET /bucket/key bytes=0-65536", ...]}``; ``DELETE /_requests``
forgets them.
"""
from __future__ import annotations

import json
import sys
import threading
from collections import Counter

_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
           b"<Message>Access Denied</Message></Error>")


class FaultyS3:
    def __init__(self, app):
        self.app, self.counts, self.log, self.lock = app, Counter(), [], threading.Lock()

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if path == "/_requests":
            with self.lock:
                body = json.dumps({"counts": dict(self.counts), "log": self.log}).encode()
                if method == "DELETE":
                    self.counts.clear()
                    self.log = []
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        with self.lock:
            self.counts[method] += 1
            self.log.append(f"{method} {path} {environ.get('HTTP_RANGE', '')}".rstrip())
        bucket, _, key = path.lstrip("/").partition("/")
        if bucket == "locked" or ("forbidden" in key and method == "GET"):
            start_response("403 Forbidden", [("Content-Type", "application/xml")])
            return [_DENIED]
        late = "cutlate" in key and not environ.get("HTTP_RANGE", "bytes=0-").startswith("bytes=0-")
        if method == "GET" and ("cutoff" in key or late):
            return self._cut(environ, start_response)
        return self.app(environ, start_response)

    def _cut(self, environ, start_response):
        answer = {}
        body = b"".join(self.app(environ, lambda status, headers, *_: answer.update(status=status, headers=headers)))
        start_response(answer["status"], answer["headers"])

        def half_then_drop():
            yield body[:len(body) // 2]
            raise ConnectionAbortedError("the test server dropped the connection mid-file")

        return half_then_drop()


def main(port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app = FaultyS3(DomainDispatcherApplication(create_backend_app))
    make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler).serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]))
