"""The suite's own guard: tests reach loopback, and nothing beyond it."""

from __future__ import annotations

import socket

import pytest


@pytest.mark.parametrize("address", ["192.0.2.1", "8.8.8.8", "10.0.0.1", "2001:db8::1"])
def test_connections_off_the_machine_are_refused(address: str) -> None:
    """A connection to any non-loopback address fails at once with a message saying why."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with (
        socket.socket(family, socket.SOCK_STREAM) as probe,
        pytest.raises(ConnectionRefusedError, match="tests may not leave the machine"),
    ):
        probe.connect((address, 80))


def test_every_loopback_address_is_allowed() -> None:
    """127.0.0.0/8 is all loopback: a listener on 127.0.0.9 can be reached."""
    with socket.socket() as server:
        server.bind(("127.0.0.9", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
