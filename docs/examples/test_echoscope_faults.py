"""Use Echoscope from your tests: pytest starts it headless, injects faults through its
control API, and asserts what a client sees (docs/handbook/control-api.md).

    ECHOSCOPE=build/app/echoscope python3 -m pytest docs/examples/test_echoscope_faults.py

Only Python's standard library besides pytest (Debian: python3-pytest). Every wait has a
bound: the sockets and HTTP calls time out after 10 s, and the server is killed if it does
not stop within 10 s of SIGTERM.
"""

import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.request

import pytest

ECHOSCOPE = os.environ.get("ECHOSCOPE", "echoscope")
TIMEOUT = 10


class Echoscope:
    """A headless Echoscope on free ports, with its control API."""

    def __init__(self, tmp_path):
        self.token = secrets.token_hex(32)
        token_file = tmp_path / "control-token"
        token_file.write_text(self.token + "\n")
        token_file.chmod(0o600)  # a token file others may read is refused
        self.process = subprocess.Popen(
            [ECHOSCOPE, "--headless", "--port", "0",
             "--control-port", "0", "--control-token-file", str(token_file)],
            stdout=subprocess.PIPE, text=True)
        self.port = self.api = None
        # The two lines come first: "listening on 127.0.0.1:PORT" and
        # "control API at http://127.0.0.1:PORT/api/v1 ..."; if it fails, stdout ends.
        for line in self.process.stdout:
            if m := re.match(r"listening on \S+:(\d+)", line):
                self.port = int(m[1])
            elif m := re.match(r"control API at (\S+)", line):
                self.api = m[1]
            if self.port and self.api:
                break
        if not (self.port and self.api):
            self.stop()
            pytest.fail(f"echoscope did not start (exit status {self.process.returncode})")

    def call(self, method, path, body=None):
        """One request to the API; the answer's JSON (None for an empty body)."""
        request = urllib.request.Request(
            self.api + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            data = answer.read()
            return json.loads(data) if data else None

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)

    def client_id(self, sock):
        """The id Echoscope gave this socket's connection (found by its own port)."""
        port = sock.getsockname()[1]
        since = 1  # the first event's number: sequence numbers start at 1
        while True:  # ends: each poll waits at most TIMEOUT for a new event
            clients = self.call("GET", f"/clients?peer=127.0.0.1:{port}")["clients"]
            if clients:
                return clients[0]["id"]
            answer = self.call("GET", f"/events?since={since}&timeout_ms={TIMEOUT * 1000}")
            if not answer["events"]:
                pytest.fail(f"no client from port {port} within {TIMEOUT} s")
            since = answer["next"]

    def wait_for_bytes_in(self, client, count):
        """Until the server has read `count` bytes from the client (asked again at once:
        each answer is a round trip; bounded by TIMEOUT)."""
        deadline = time.monotonic() + TIMEOUT
        while self.call("GET", f"/clients/{client}")["bytes_in"] < count:
            if time.monotonic() > deadline:
                pytest.fail(f"client {client} did not send {count} bytes within {TIMEOUT} s")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def echoscope(tmp_path):
    server = Echoscope(tmp_path)
    yield server
    server.stop()


def read_exactly(sock, size):
    data = b""
    while len(data) < size and (chunk := sock.recv(size - len(data))):
        data += chunk
    return data


def read_to_end(sock):
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_close_after_five_bytes(echoscope):
    # The default for new clients: the server closes once it has echoed 5 bytes.
    echoscope.call("PUT", "/faults", {"close_after_bytes": 5})
    with echoscope.connect() as client:
        client.sendall(b"hello world!")
        assert read_to_end(client) == b"hello"


def test_kick_one_client(echoscope):
    with echoscope.connect() as kept, echoscope.connect() as kicked:
        echoscope.call("DELETE", f"/clients/{echoscope.client_id(kicked)}")
        assert read_to_end(kicked) == b""  # closed by the server
        kept.sendall(b"still here")
        assert kept.recv(64) == b"still here"  # the other client carries on


def test_faults_for_one_client_then_cleared(echoscope):
    with echoscope.connect() as client:
        client_id = echoscope.client_id(client)
        path = f"/clients/{client_id}/faults"
        # A change is in force once the API has answered it.
        echoscope.call("PUT", path, {"blackhole": True})
        assert echoscope.call("GET", f"/clients/{client_id}")["faults"]["blackhole"] is True
        client.sendall(b"into the void")  # read, counted, never echoed
        # Read by the server before the blackhole is lifted, else it would be echoed.
        echoscope.wait_for_bytes_in(client_id, len(b"into the void"))
        echoscope.call("DELETE", path)
        client.sendall(b"echo again")
        # Only this comes back: the blackhole took the bytes before it.
        assert read_exactly(client, len(b"echo again")) == b"echo again"
