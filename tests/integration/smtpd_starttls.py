"""A real SMTP server (python3-aiosmtpd) for tests/integration/test_scan_starttls.sh.

usage: smtpd_starttls.py PORT CERT KEY [--no-tls]
Listens on 127.0.0.1:PORT and offers STARTTLS (RFC 3207) with CERT/KEY, or with --no-tls does not
offer it at all. Prints "ready" once it accepts connections; runs until killed.
"""
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    tls = None
    if "--no-tls" not in sys.argv[4:]:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(cert, key)
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, tls_context=tls,
                            require_starttls=False)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


main()
