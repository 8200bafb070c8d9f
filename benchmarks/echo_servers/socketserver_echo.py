#!/usr/bin/env python3
"""Peer for bench_echo: the reviewed question's shape, socketserver.ThreadingTCPServer
(one thread per connection, blocking recv/sendall).

Prints "listening on 127.0.0.1:PORT" once it listens on an ephemeral port. A client's
half-close (recv returns b"") ends handle(); the server then shuts the socket down.
"""
import resource
import socketserver


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


class EchoServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with EchoServer(("127.0.0.1", 0), EchoHandler) as server:
        print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
        server.serve_forever()
