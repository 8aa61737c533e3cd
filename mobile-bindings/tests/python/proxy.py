"""A TCP proxy between a device and the server that the tests can take offline, and that can
hold a photo upload half way (as a connection that drops, or an app killed mid-upload)."""
import socket
import threading


class Proxy:
    """Forwards 127.0.0.1:<port> to the server. `online = False` refuses and drops every
    connection; `hold_upload_after(n)` stops forwarding a photo upload's body after n bytes and
    sets `held` (the connection stays open, silent, until `drop_all`)."""

    def __init__(self, target_url):
        host, port = target_url.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.url = "http://127.0.0.1:%d" % self.listener.getsockname()[1]
        self.online = True
        self.hold_after = None
        self.held = threading.Event()
        self.upload_offsets = []  # Upload-Offset of every photo upload seen
        self.lock = threading.Lock()
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def set_online(self, online):
        self.online = online
        if not online:
            self.drop_all()

    def hold_upload_after(self, n):
        self.held.clear()
        self.hold_after = n

    def drop_all(self):
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets = []

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.online:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _requests(self, client, upstream):
        """Forwards requests one by one, reading their headers to find photo uploads."""
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = client.recv(65536)
                    if not data:
                        raise OSError("closed")
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, v in
                           (l.split(":", 1) for l in lines[1:] if ":" in l)}
                length = int(headers.get("content-length", "0"))
                upload = lines[0].startswith("PATCH /v1/photos/")
                if upload:
                    self.upload_offsets.append(int(headers.get("upload-offset", "-1")))
                upstream.sendall(head + b"\r\n\r\n")
                sent = 0
                while sent < length:
                    if not buf:
                        buf = client.recv(65536)
                        if not buf:
                            raise OSError("closed")
                    take = buf[: length - sent]
                    if upload and self.hold_after is not None and sent + len(take) >= self.hold_after:
                        upstream.sendall(take[: self.hold_after - sent])
                        self.hold_after = None
                        self.held.set()
                        return  # silent from here; drop_all or the client's death ends it
                    upstream.sendall(take)
                    sent += len(take)
                    buf = buf[len(take):]
        except OSError:
            pass
        for s in (client, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
