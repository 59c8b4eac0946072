#!/usr/bin/env python3
"""A throwaway RFC 3161 timestamp server for the tests (standard library only).

    python3 tests/tools/tsa_server.py --pki DIR [--mode ok|garbage|http500|slow]
        [--port-file FILE] [--port N] [--max-seconds 120] [--max-requests 100]

DIR comes from scripts/make-test-pki (it needs DIR/tsa.cnf). The server listens
on 127.0.0.1 (port 0 = any free port) and answers POST /ts:

  ok       Content-Type application/timestamp-query is answered 200 with the
           DER TimeStampResp of `openssl ts -reply -config DIR/tsa.cnf`
           (application/timestamp-reply); other content types get 415;
  garbage  200 with 64 random bytes (application/timestamp-reply);
  http500  500;
  slow     waits 30 s, then answers like ok.

Other paths get 404 and other methods 405. When listening, it prints
"http://127.0.0.1:PORT/ts" and writes the same line to --port-file (written
atomically). Each request is logged to stderr. It stops by itself after
--max-seconds, after answering --max-requests requests, and on SIGTERM or
SIGINT (exit status 0 in all three cases).
"""
import argparse
import http.server
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

stop = threading.Event()
count_lock = threading.Lock()
openssl_lock = threading.Lock()  # one `openssl ts -reply` at a time (serial file)
requests_seen = 0


def log(msg):
    sys.stderr.write("tsa_server: %s\n" % msg)
    sys.stderr.flush()


def timestamp(pki, query):
    """Return the DER TimeStampResp for a DER TimeStampReq, or None."""
    with tempfile.TemporaryDirectory(prefix="tsa-") as tmp:
        qf = os.path.join(tmp, "query.tsq")
        rf = os.path.join(tmp, "reply.tsr")
        with open(qf, "wb") as f:
            f.write(query)
        cmd = ["openssl", "ts", "-reply", "-config", os.path.join(pki, "tsa.cnf"),
               "-queryfile", qf, "-out", rf]
        with openssl_lock:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=30)
        if p.returncode != 0 or not os.path.exists(rf):
            log("openssl ts -reply failed (%d): %s"
                % (p.returncode, p.stdout.decode("utf-8", "replace").strip()))
            return None
        with open(rf, "rb") as f:
            return f.read()


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "pkgflat-test-tsa/1"
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        log("%s %s" % (self.address_string(), fmt % args))

    def answer(self, code, body=b"", ctype="text/plain"):
        try:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError) as e:
            log("client went away: %s" % e)

    def counted(self):
        global requests_seen
        with count_lock:
            requests_seen += 1
            n = requests_seen
        log("request %d: %s %s (%s, %s bytes)"
            % (n, self.command, self.path, self.headers.get("Content-Type"),
               self.headers.get("Content-Length")))
        return n

    def finished(self, n):
        if n >= self.server.max_requests:
            log("answered %d requests, stopping" % n)
            stop.set()

    def do_GET(self):
        n = self.counted()
        self.answer(405, b"use POST\n")
        self.finished(n)

    do_PUT = do_DELETE = do_HEAD = do_GET

    def do_POST(self):
        n = self.counted()
        try:
            self.post()
        finally:
            self.finished(n)

    def post(self):
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if length < 0 or length > 1 << 20:
            return self.answer(411, b"need a Content-Length up to 1 MiB\n")
        query = self.rfile.read(length)
        if self.path.split("?", 1)[0] != "/ts":
            return self.answer(404, b"the timestamp service is at /ts\n")
        mode = self.server.mode
        if mode == "http500":
            return self.answer(500, b"internal error (--mode http500)\n")
        if mode == "garbage":
            return self.answer(200, os.urandom(64), "application/timestamp-reply")
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/timestamp-query":
            return self.answer(415, b"need Content-Type: application/timestamp-query\n")
        if mode == "slow":
            log("slow mode: waiting 30 s")
            if stop.wait(30):
                return
        reply = timestamp(self.server.pki, query)
        if reply is None:
            return self.answer(500, b"openssl ts -reply failed\n")
        self.answer(200, reply, "application/timestamp-reply")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description="RFC 3161 test timestamp server")
    ap.add_argument("--pki", required=True, help="directory from scripts/make-test-pki")
    ap.add_argument("--mode", choices=["ok", "garbage", "http500", "slow"], default="ok")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--port-file", help="write the URL here once listening")
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--max-requests", type=int, default=100)
    a = ap.parse_args()

    pki = os.path.abspath(a.pki)
    if not os.path.isfile(os.path.join(pki, "tsa.cnf")):
        ap.error("%s has no tsa.cnf (make it with scripts/make-test-pki)" % pki)

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    srv = Server(("127.0.0.1", a.port), Handler)
    srv.pki, srv.mode, srv.max_requests = pki, a.mode, a.max_requests
    url = "http://127.0.0.1:%d/ts" % srv.server_address[1]
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()

    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(url + "\n")
        os.replace(tmp, a.port_file)
    print(url, flush=True)
    log("listening on %s (mode %s, pid %d)" % (url, a.mode, os.getpid()))

    deadline = time.monotonic() + a.max_seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            log("--max-seconds %g reached, stopping" % a.max_seconds)
            break
        stop.wait(min(left, 1.0))
    stop.set()
    srv.shutdown()
    srv.server_close()
    log("stopped after %d requests" % requests_seen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
