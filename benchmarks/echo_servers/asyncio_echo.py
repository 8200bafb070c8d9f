#!/usr/bin/env python3
"""Peer for bench_echo: the canonical asyncio echo server (Protocol, one event loop).

Prints "listening on 127.0.0.1:PORT" once it listens on an ephemeral port. A client's
half-close ends its connection after the echo already buffered has been written.
"""
import asyncio
import resource


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        return False  # close, after the transport has written what it buffered


async def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
