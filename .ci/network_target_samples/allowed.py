"""Nothing here is a network target off this machine: see https://pytorch.org/docs (prose)."""

import socket
import urllib.request

# A comment may link anywhere: https://pytorch.org/docs/stable/nn.html
socket.create_connection(("127.0.0.1", 8000))
socket.create_connection(("localhost", 8000))
socket.socket().bind(("0.0.0.0", 0))
socket.getaddrinfo("::1", 80)
urllib.request.urlopen("http://127.0.0.1:8000/en/latest/")
urllib.request.urlopen("http://localhost:8000/")
MASTER = "tcp://127.0.0.2:29500"
PAGE = "file:///tmp/site/index.html"
FIXTURE = '<script src="https://cdn.example/x.js"></script>'
VERSION = "torch 2.13.0, actionlint 1.7.12.25"
KEYS = {("a", 1): "a tuple key", ("layers", 2): "another"}
