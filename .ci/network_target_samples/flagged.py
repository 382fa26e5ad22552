"""Each line marked ``# flagged`` names a network target off this machine.

See ../no_network_targets.py; tests/test_infrastructure.py checks the lint finds exactly these.
"""

import http.client
import socket
import urllib.request

socket.create_connection(("1.1.1.1", 53), timeout=3)  # flagged
socket.create_connection(("pypi.org", 443))  # flagged
socket.socket().sendto(b"x", ("10.0.0.7", 9))  # flagged
urllib.request.urlopen("https://download.pytorch.org/whl/cpu")  # flagged
socket.gethostbyname("example.com")  # flagged
http.client.HTTPConnection("mirror.internal.corp")  # flagged
DNS = "8.8.8.8"  # flagged
MASTER = "tcp://192.168.1.20:29500"  # flagged
SERVER = "[2001:4860:4860::8888]"  # flagged
RENDEZVOUS = "--master-addr 10.1.2.3:29500 --nproc 2"  # flagged
