#!/usr/bin/env python3
"""A stand-in for Apple's notary service, its S3 bucket and the ticket
lookup, for the notarize tests (Python standard library only; HTTPS on
127.0.0.1 with the test's certificate).

It behaves like the documented Notary API and checks what it receives:
  - every API request: the ES256 JWT (signature against the test key's
    public half, alg, kid, iss, aud "appstoreconnect-v1", iat/exp, lifetime);
  - every S3 request: the AWS SigV4 signature, computed again with the
    secret it handed out, the session token, and x-amz-content-sha256
    against the bytes received;
  - the uploaded object's SHA-256 against the one submitted;
then answers "In Progress" a few times and Accepted (or Invalid with a
log naming an unsigned binary), and serves tickets for the TOC digests of
the packages it accepted (records "2/<1|2>/<hex of 20 bytes>").

Every request ("EVENT request METHOD PATH"), check and decision is written
as one line to stdout ("EVENT ...") for the tests to read. --invalid-name
makes the submissions whose name holds a text Invalid, the others as
--result says (batch tests: several packages, several outcomes). The port goes to --port-file once listening.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

# --- ECDSA P-256 verification (FIPS 186-4), enough for ES256 -----------------
P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
A = P - 3
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
     0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def _add(p, q):
    if p is None:
        return q
    if q is None:
        return p
    if p[0] == q[0] and (p[1] + q[1]) % P == 0:
        return None
    if p == q:
        lam = (3 * p[0] * p[0] + A) * pow(2 * p[1], -1, P) % P
    else:
        lam = (q[1] - p[1]) * pow(q[0] - p[0], -1, P) % P
    x = (lam * lam - p[0] - q[0]) % P
    return (x, (lam * (p[0] - x) - p[1]) % P)


def _mul(k, p):
    r = None
    while k:
        if k & 1:
            r = _add(r, p)
        p = _add(p, p)
        k >>= 1
    return r


def es256_verify(pub, msg, sig):
    if len(sig) != 64:
        return False
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return False
    e = int.from_bytes(hashlib.sha256(msg).digest(), "big")
    w = pow(s, -1, N)
    pt = _add(_mul(e * w % N, G), _mul(r * w % N, pub))
    return pt is not None and pt[0] % N == r


def load_pub(path):
    """The (x, y) of a P-256 public key PEM (SubjectPublicKeyInfo)."""
    body = "".join(l for l in open(path).read().splitlines() if "-----" not in l)
    der = base64.b64decode(body)
    if der[-65] != 4:
        raise SystemExit("not an uncompressed P-256 public key: " + path)
    return (int.from_bytes(der[-64:-32], "big"), int.from_bytes(der[-32:], "big"))


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# --- SigV4 (AWS "Signature Version 4"), verified from the request ------------
def aws_quote(s, keep_slash):
    return urllib.parse.quote(s, safe="-_.~" + ("/" if keep_slash else ""))


def sigv4_expected(secret, method, raw_path, raw_query, headers, signed,
                   payload_hash, amz_date, scope):
    pairs = []
    if raw_query:
        for item in raw_query.split("&"):
            k, _, v = item.partition("=")
            pairs.append((aws_quote(urllib.parse.unquote(k), False),
                          aws_quote(urllib.parse.unquote(v), False)))
    cq = "&".join("%s=%s" % kv for kv in sorted(pairs))
    ch = "".join("%s:%s\n" % (h, " ".join(headers.get(h, "").split()))
                 for h in signed)
    creq = "\n".join([method, raw_path, cq, ch, ";".join(signed), payload_hash])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    date, region, service, _ = scope.split("/")
    k = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


# --- what the tests ask for --------------------------------------------------
def toc_record(data):
    """The ticket record of a flat package: 2/<type>/<first 20 bytes of the
    stored TOC checksum>, read from the XAR header and TOC."""
    if data[:4] != b"xar!":
        return None
    hsize = int.from_bytes(data[4:6], "big")
    clen = int.from_bytes(data[8:16], "big")
    toc = ET.fromstring(zlib.decompress(data[hsize:hsize + clen]))
    ck = toc.find("toc/checksum")
    off, size = int(ck.find("offset").text), int(ck.find("size").text)
    heap = hsize + clen
    dtype = {"sha1": 1, "sha256": 2}.get(ck.get("style"), 0)
    return "2/%d/%s" % (dtype, data[heap + off:heap + off + size][:20].hex())


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.subs = {}
        self.published = {}     # record -> lookups before it appears
        self.token_uses = {}
        self.failed_parts = set()
        self.pub = load_pub(args.pubkey)


EVENT_LOCK = threading.Lock()


def event(*words):
    # One write per line under a lock: print() writes each word and the
    # newline separately, and two handler threads could interleave them.
    line = " ".join(["EVENT"] + [str(w) for w in words]) + "\n"
    with EVENT_LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    @property
    def st(self):
        return self.server.state

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, code, obj=None, raw=None, ctype="application/json", extra=()):
        data = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def api_error(self, code, title, detail):
        self.send(code, {"errors": [{"status": str(code), "code": "NOT_AUTHORIZED"
                                     if code == 401 else "ERROR", "title": title,
                                     "detail": detail}]})

    # --- the JWT on every API request
    def check_jwt(self):
        a = self.st.args
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return "no bearer token"
        tok = auth[7:]
        parts = tok.split(".")
        if len(parts) != 3:
            return "not a JWT"
        try:
            hdr, claims = json.loads(b64url(parts[0])), json.loads(b64url(parts[1]))
            sig = b64url(parts[2])
        except Exception as e:  # noqa: BLE001 - any malformed token
            return "malformed JWT: %s" % e
        now = time.time()
        if hdr.get("alg") != "ES256" or hdr.get("typ") not in (None, "JWT"):
            return "alg is not ES256"
        if hdr.get("kid") != a.key_id:
            return "kid %r is not the key id" % hdr.get("kid")
        if claims.get("iss") != a.issuer:
            return "iss %r is not the issuer" % claims.get("iss")
        if claims.get("aud") != "appstoreconnect-v1":
            return "aud is not appstoreconnect-v1"
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            return "iat/exp missing"
        if exp - iat > 1200:
            return "lifetime over 20 minutes"
        if iat > now + 60:
            return "iat in the future"
        if exp <= now:
            event("jwt-expired", "exp=%d" % exp, "now=%d" % int(now))
            return "token expired"
        if not es256_verify(self.st.pub, (parts[0] + "." + parts[1]).encode(), sig):
            return "signature does not verify with the public key"
        with self.st.lock:
            uses = self.st.token_uses.get(tok, 0) + 1
            self.st.token_uses[tok] = uses
            distinct = len(self.st.token_uses)
        if a.expire_token_after and uses > a.expire_token_after:
            event("jwt-expired-by-server", "uses=%d" % uses)
            return "token expired"
        event("jwt-ok", "iat=%d" % iat, "exp=%d" % exp, "tokens=%d" % distinct)
        return None

    def api(self, method):
        why = self.check_jwt()
        if why:
            event("jwt-rejected", why.replace(" ", "_"))
            return self.api_error(401, "Authentication credentials are missing or invalid.",
                                  "Provide a properly configured and signed bearer "
                                  "token, and make sure that it has not expired.")
        path = urllib.parse.urlsplit(self.path).path[len("/notary/v2"):]
        a, st = self.st.args, self.st
        if method == "POST" and path == "/submissions":
            req = json.loads(self.body())
            if a.bad_answer == "submit":
                event("bad-answer", "submit")
                return self.send(200, {"data": {"id": "0000", "attributes": {"bucket": "b"}}})
            sha, name = req.get("sha256"), req.get("submissionName")
            if not re.fullmatch(r"[0-9a-f]{64}", sha or "") or not name:
                return self.api_error(400, "bad request", "sha256 and submissionName wanted")
            sid = "%08x-%04x-4%03x-8%03x-%012x" % tuple(secrets.randbits(b) for b in (32, 16, 12, 12, 48))
            sub = {"id": sid, "name": name, "sha256": sha, "access": "ASIA" + secrets.token_hex(8).upper(),
                   "secret": secrets.token_urlsafe(30), "token": secrets.token_urlsafe(60),
                   "bucket": "notary-submissions-mock", "object": "prod/%s/%s" % (sid, name),
                   "data": None, "parts": {}, "polls": 0, "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
            with st.lock:
                st.subs[sid] = sub
            event("submitted", sid, sha, name)
            return self.send(200, {"data": {"id": sid, "type": "newSubmissions", "attributes": {
                "awsAccessKeyId": sub["access"], "awsSecretAccessKey": sub["secret"],
                "awsSessionToken": sub["token"], "bucket": sub["bucket"], "object": sub["object"]}},
                "meta": {}})
        if method == "GET" and path == "/submissions":
            rows = [{"id": s["id"], "type": "submissions", "attributes": {
                "createdDate": s["created"], "name": s["name"], "status": self.status(s, False)}}
                for s in reversed(list(st.subs.values()))]
            return self.send(200, {"data": rows, "links": {}, "meta": {}})
        m = re.fullmatch(r"/submissions/([0-9a-f-]+)(/logs)?", path)
        if method == "GET" and m and m.group(1) in st.subs:
            s = st.subs[m.group(1)]
            if m.group(2):
                host = "https://127.0.0.1:%d" % self.server.server_address[1]
                return self.send(200, {"data": {"id": s["id"], "type": "submissionsLog", "attributes": {
                    "developerLogUrl": host + "/devlogs/" + s["id"] + "?X-Amz-Signature=mock"}}, "meta": {}})
            if a.bad_answer == "status":
                event("bad-answer", "status")
                return self.send(200, raw=b'{"data": {"attributes": {"status": "Accep')
            status = self.status(s, True)
            event("status", s["id"], status.replace(" ", "_"))
            return self.send(200, {"data": {"id": s["id"], "type": "submissions", "attributes": {
                "createdDate": s["created"], "name": s["name"], "status": status}}, "meta": {}})
        return self.api_error(404, "The specified resource does not exist",
                              "There is no resource of type 'submissions' with id '%s'" % path)

    def status(self, s, count):
        a = self.st.args
        if s["data"] is None:
            return "In Progress"
        if count:
            s["polls"] += 1
        if s["polls"] <= a.polls:
            return "In Progress"
        if hashlib.sha256(s["data"]).hexdigest() != s["sha256"]:
            return "Invalid"
        result = "invalid" if any(x in s["name"] for x in a.invalid_name) else a.result
        if result == "accepted":
            rec = toc_record(s["data"])
            with self.st.lock:
                if rec and rec not in self.st.published:
                    self.st.published[rec] = a.ticket_delay
                    event("accepted", s["id"], rec)
            return "Accepted"
        return "Invalid" if result == "invalid" else "Rejected"

    def devlog(self):
        if "Authorization" in self.headers:
            event("devlog-with-authorization")
            return self.send(400, raw=b"presigned URL: no Authorization", ctype="text/plain")
        sid = urllib.parse.urlsplit(self.path).path.split("/")[-1]
        s = self.st.subs.get(sid)
        if not s:
            return self.send(404, raw=b"NoSuchKey", ctype="text/plain")
        status = self.status(s, False)
        issues = None
        data = s["data"] or b""
        got = hashlib.sha256(data).hexdigest()
        if got != s["sha256"]:
            issues = [{"severity": "error", "code": None, "path": s["name"], "architecture": None,
                       "message": "The uploaded file's SHA-256 does not match the submission.",
                       "docUrl": None}]
        elif status != "Accepted":
            issues = [{"severity": "error", "code": None,
                       "path": s["name"] + "/Payload/Applications/Tool.app/Contents/MacOS/tool",
                       "message": "The binary is not signed with a valid Developer ID certificate.",
                       "docUrl": "https://developer.apple.com/documentation/security/"
                                 "resolving-common-notarization-issues#Sign-with-a-valid-Developer-ID-certificate",
                       "architecture": "x86_64"}]
        event("devlog", sid)
        return self.send(200, {"logFormatVersion": 1, "jobId": sid, "status": status,
                               "statusSummary": "Ready for distribution" if status == "Accepted"
                               else "Archive contains critical validation errors",
                               "statusCode": 0 if status == "Accepted" else 4000,
                               "archiveFilename": s["name"], "uploadDate": s["created"],
                               "sha256": s["sha256"], "ticketContents": None, "issues": issues})

    # --- S3, path style: /s3/<bucket>/<object>
    def s3(self, method):
        st, a = self.st, self.st.args
        u = urllib.parse.urlsplit(self.path)
        raw_path, raw_query = u.path, u.query
        body = self.body()
        hd = {k.lower(): v for k, v in self.headers.items()}
        auth = hd.get("authorization", "")
        m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                         r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
        key = urllib.parse.unquote(raw_path[len("/s3/"):])
        bucket, _, obj = key.partition("/")
        sub = next((s for s in st.subs.values() if s["bucket"] == bucket and s["object"] == obj), None)
        why = None
        if not m:
            why = "no SigV4 Authorization header"
        elif not sub:
            why = "no such object was handed out"
        elif m.group(1) != sub["access"]:
            why = "unknown access key"
        elif m.group(3) != a.region:
            why = "region %s is not %s" % (m.group(3), a.region)
        elif hd.get("x-amz-security-token") != sub["token"]:
            why = "session token missing or wrong"
        else:
            signed = m.group(4).split(";")
            for need in ("host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"):
                if need not in signed:
                    why = "%s not signed" % need
            amz = hd.get("x-amz-date", "")
            try:
                t = datetime.datetime.strptime(amz, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
                if abs(t.timestamp() - time.time()) > 900:
                    why = "x-amz-date too far from now"
            except ValueError:
                why = "bad x-amz-date"
            ph = hd.get("x-amz-content-sha256", "")
            if not why and ph != hashlib.sha256(body).hexdigest():
                why = "x-amz-content-sha256 is not the body's"
            if not why:
                scope = "%s/%s/s3/aws4_request" % (m.group(2), m.group(3))
                want = sigv4_expected(sub["secret"], method, raw_path, raw_query, hd, signed,
                                      ph, amz, scope)
                if not hmac.compare_digest(want, m.group(5)):
                    why = "signature does not match"
        if why:
            event("sigv4-rejected", why.replace(" ", "_"))
            return self.send(403, raw=("<Error><Code>SignatureDoesNotMatch</Code><Message>%s</Message></Error>"
                                       % why).encode(), ctype="application/xml")
        q = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        event("sigv4-ok", method, raw_query or "-")
        if method == "PUT" and "partNumber" in q:
            n = int(q["partNumber"])
            if n in a.fail_part and n not in st.failed_parts:
                st.failed_parts.add(n)
                event("part-failed-on-purpose", n)
                return self.send(500, raw=b"<Error><Code>InternalError</Code></Error>", ctype="application/xml")
            if q.get("uploadId") != sub.get("upload_id"):
                return self.send(404, raw=b"<Error><Code>NoSuchUpload</Code></Error>", ctype="application/xml")
            etag = '"%s"' % hashlib.md5(body).hexdigest()
            sub["parts"][n] = (etag, body)
            event("part", n, len(body))
            return self.send(200, raw=b"", extra=[("ETag", etag)])
        if method == "PUT":
            sub["data"] = body
            event("uploaded", sub["id"], hashlib.sha256(body).hexdigest())
            return self.send(200, raw=b"", extra=[("ETag", '"%s"' % hashlib.md5(body).hexdigest())])
        if method == "POST" and "uploads" in q:
            sub["upload_id"] = secrets.token_urlsafe(24)
            sub["parts"] = {}
            return self.send(200, raw=("<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>%s</Bucket>"
                                       "<Key>%s</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>"
                                       % (bucket, obj, sub["upload_id"])).encode(), ctype="application/xml")
        if method == "POST" and "uploadId" in q:
            doc = ET.fromstring(body)
            parts = [(int(p.find("PartNumber").text), p.find("ETag").text) for p in doc.findall("Part")]
            if [p[0] for p in parts] != list(range(1, len(sub["parts"]) + 1)) or \
                    any(sub["parts"][n][0] != e for n, e in parts):
                return self.send(400, raw=b"<Error><Code>InvalidPart</Code></Error>", ctype="application/xml")
            sub["data"] = b"".join(sub["parts"][n][1] for n, _ in parts)
            event("uploaded", sub["id"], hashlib.sha256(sub["data"]).hexdigest(), "parts=%d" % len(parts))
            return self.send(200, raw=b"<CompleteMultipartUploadResult><ETag>\"x\"</ETag></CompleteMultipartUploadResult>",
                             ctype="application/xml")
        if method == "DELETE":
            sub["parts"] = {}
            return self.send(204, raw=b"")
        return self.send(400, raw=b"<Error><Code>InvalidRequest</Code></Error>", ctype="application/xml")

    # --- the ticket lookup
    def ticket(self):
        st, a = self.st, self.st.args
        req = json.loads(self.body())
        out = []
        for r in req.get("records", []):
            name = r.get("recordName")
            with st.lock:
                left = st.published.get(name)
                if left is not None and left > 0:
                    st.published[name] = left - 1
            if left is None or left > 0:
                event("ticket-not-found", name)
                out.append({"recordName": name, "reason": "Record not found",
                            "serverErrorCode": "NOT_FOUND"})
                continue
            if a.bad_answer == "ticket":
                event("bad-answer", "ticket")
                out.append({"recordName": name, "fields": {"signedTicket": {"value": "AAAA", "type": "STRING"}}})
                continue
            tk = ticket_bytes(name)
            if a.ticket_dir:
                with open(os.path.join(a.ticket_dir, name.replace("/", "_") + ".ticket"), "wb") as f:
                    f.write(tk)
            event("ticket-served", name)
            now = int(time.time() * 1000)
            ev = {"timestamp": now, "userRecordName": "_mock", "deviceID": "2"}
            out.append({"recordName": name, "recordType": "DeveloperIDTicket", "fields": {
                "signedTicket": {"value": base64.b64encode(tk).decode(), "type": "BYTES"}},
                "pluginFields": {}, "recordChangeTag": "mock", "created": ev, "modified": ev,
                "deleted": False})
        self.send(200, {"records": out})

    def route(self, method):
        p = urllib.parse.urlsplit(self.path).path
        # Every request, so that a test can tell that none came.
        event("request", method, p.replace(" ", "%20"))
        try:
            if p.startswith("/notary/v2/"):
                return self.api(method)
            if p.startswith("/s3/"):
                return self.s3(method)
            if p == "/ticket/lookup" and method == "POST":
                return self.ticket()
            if p.startswith("/devlogs/") and method == "GET":
                return self.devlog()
            self.send(404, raw=b"not here", ctype="text/plain")
        except (ConnectionError, ssl.SSLError):
            pass

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")


def ticket_bytes(record):
    # Not Apple's signed format (the mock cannot sign as Apple): a
    # recognisable blob naming the record, with stapler's "s8ch" magic.
    return b"s8ch" + b"\x01\x00\x00\x00" + hashlib.sha256(record.encode()).digest() + record.encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--pubkey", required=True, help="the API key's public half (PEM)")
    ap.add_argument("--key-id", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--region", default="us-west-2")
    ap.add_argument("--result", choices=("accepted", "invalid", "rejected"), default="accepted")
    ap.add_argument("--invalid-name", action="append", default=[],
                    help="submissions whose name holds this are Invalid")
    ap.add_argument("--polls", type=int, default=2, help="In Progress answers after the upload")
    ap.add_argument("--ticket-delay", type=int, default=0, help="lookups answered NOT_FOUND first")
    ap.add_argument("--fail-part", type=int, action="append", default=[],
                    help="answer 500 to the first upload of this part")
    ap.add_argument("--expire-token-after", type=int, default=0,
                    help="refuse a token after this many uses, as expired")
    ap.add_argument("--bad-answer", choices=("submit", "status", "ticket"),
                    help="answer this request with malformed or incomplete JSON")
    ap.add_argument("--ticket-dir")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--max-seconds", type=int, default=120)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State(a)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    url = "https://127.0.0.1:%d" % srv.server_address[1]
    threading.Timer(a.max_seconds, lambda: os._exit(0)).start()
    with open(a.port_file + ".tmp", "w") as f:
        f.write(url)
    os.rename(a.port_file + ".tmp", a.port_file)
    print("listening", url, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
