"""Stand-in STARTTLS servers for tests/integration/test_scan_starttls.sh.

No IMAP, POP3, FTP, LDAP or XMPP server is installed here, so each protocol's upgrade exchange is
spoken by this small asyncio server, written from the RFCs (the specification is the reference,
not this file): IMAP RFC 9051 §6.2.1, POP3 RFC 2595 §4, FTP RFC 4217 §4, LDAP RFC 4511 §4.14,
XMPP RFC 6120 §5.4, PostgreSQL's SSLRequest. After the exchange the connection is wrapped in TLS
with CERT/KEY; with --refuse the server answers that it does not offer the upgrade.

usage: starttls_peers.py PROTO PORT CERT KEY [--refuse]
Prints "ready" on stdout once listening on 127.0.0.1:PORT; runs until killed.
"""
import asyncio
import ssl
import sys

PROTO, PORT, CERT, KEY = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
REFUSE = "--refuse" in sys.argv[5:]

# RFC 4511 §4.14.1: the StartTLS extended request with messageID 1, byte for byte.
LDAP_REQUEST = bytes([0x30, 0x1D, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16]) + b"1.3.6.1.4.1.1466.20037"


def ldap_response(code):
    # LDAPMessage { messageID 1, [APPLICATION 24] { resultCode, matchedDN "", diagnosticMessage "" } }
    return bytes([0x30, 0x0C, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0A, 0x01, code, 0x04, 0x00, 0x04, 0x00])


XMPP_HEADER = (b"<?xml version='1.0'?><stream:stream from='stand-in.test' id='s1' version='1.0' "
               b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")


async def read_until(reader, marker, cap=16384):
    data = b""
    while marker not in data:
        chunk = await reader.read(4096)
        if not chunk or len(data) > cap:
            raise ConnectionError("peer closed or sent too much")
        data += chunk
    return data


async def exchange(reader, writer):
    """The protocol's plaintext part; True when TLS follows."""
    if PROTO == "imap":
        writer.write(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] stand-in ready\r\n")
        line = await reader.readline()
        if line.strip().upper() != b"A1 STARTTLS":
            writer.write(b"* BAD unexpected\r\n")
            return False
        writer.write(b"a1 BAD STARTTLS not available\r\n" if REFUSE else b"a1 OK Begin TLS negotiation now\r\n")
    elif PROTO == "pop3":
        writer.write(b"+OK stand-in POP3 ready\r\n")
        line = await reader.readline()
        if line.strip().upper() != b"STLS":
            return False
        writer.write(b"-ERR STLS not supported\r\n" if REFUSE else b"+OK Begin TLS negotiation\r\n")
    elif PROTO == "ftp":
        writer.write(b"220-stand-in FTP\r\n220 ready\r\n")
        line = await reader.readline()
        if line.strip().upper() != b"AUTH TLS":
            return False
        writer.write(b"502 AUTH not supported\r\n" if REFUSE else b"234 AUTH TLS successful\r\n")
    elif PROTO == "ldap":
        req = await reader.readexactly(len(LDAP_REQUEST))
        if req != LDAP_REQUEST:
            return False
        writer.write(ldap_response(2 if REFUSE else 0))  # 2: protocolError
    elif PROTO == "postgres":
        req = await reader.readexactly(8)
        if req != bytes([0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F]):
            return False
        writer.write(b"N" if REFUSE else b"S")
    elif PROTO == "xmpp":
        header = await read_until(reader, b">")
        if b"<stream:stream" not in header or b"to='" not in header:
            return False
        features = b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>" \
            if REFUSE else \
            b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
        writer.write(XMPP_HEADER + features)
        await read_until(reader, b"/>")
        writer.write(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    else:
        raise SystemExit("unknown protocol " + PROTO)
    await writer.drain()
    return not REFUSE


async def client(reader, writer):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(CERT, KEY)
    try:
        if await exchange(reader, writer):
            await writer.start_tls(ctx)
            while await reader.read(4096):
                pass
        else:
            await reader.read(4096)
    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
        pass
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(client, "127.0.0.1", PORT)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
