"""A branch's network link to the centre, that the demo can cut.

A TCP forwarder between the branch broker's bridge and the central broker:
:meth:`Link.cut` closes every connection through it and stops listening, so
new ones are refused, until :meth:`Link.restore` (a cable pulled; TLS passes
through untouched).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

from ..harness.broker import free_port


class Link:
    def __init__(self, target_port: int, *, port: int | None = None) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = port or free_port()
        self.up = threading.Event()
        self.up.set()
        self.cuts = 0
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listen()

    def _listen(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port), reuse_port=True)
        server.settimeout(0.2)
        self._server = server
        self._thread = threading.Thread(
            target=self._accept, args=(server,), name=f"link-{self.port}", daemon=True
        )
        self._thread.start()

    def _accept(self, server: socket.socket) -> None:
        while not self._halt.is_set() and self.up.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.up.is_set():
                conn.close()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                conn.close()
                continue
            with self._lock:
                self._pairs.append((conn, upstream))
            threading.Thread(target=self._pump, args=(conn, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while not self._halt.is_set():
                for key, _ in sel.select(0.5):
                    src = key.fileobj
                    assert isinstance(src, socket.socket)
                    data = src.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            self._close(a, b)

    def _close(self, a: socket.socket, b: socket.socket) -> None:
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        with self._lock:
            if (a, b) in self._pairs:
                self._pairs.remove((a, b))

    def cut(self) -> None:
        """Pull the cable: every connection through the link drops now, and
        connecting is refused until :meth:`restore`."""
        self.up.clear()
        self.cuts += 1
        self._server.close()
        self._thread.join(2)
        with self._lock:
            pairs = list(self._pairs)
        for a, b in pairs:
            self._close(a, b)

    def restore(self) -> None:
        if not self.up.is_set():
            self.up.set()
            self._listen()

    def close(self) -> None:
        self._halt.set()
        self.up.clear()
        self._server.close()
        self._thread.join(2)
        with self._lock:
            pairs = list(self._pairs)
        for a, b in pairs:
            self._close(a, b)
