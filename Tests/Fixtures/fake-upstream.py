#!/usr/bin/env python3
"""A local stand-in for model APIs, for the credential proxy's tests.

usage: fake-upstream.py PORTFILE LOGFILE EXPECTED_KEY|@KEYFILE [--tls CERT KEY]

Every request is logged as one JSON line (method, path, headers, body length) to LOGFILE.
Requests whose credential (Authorization: Bearer KEY or x-api-key: KEY) is not EXPECTED_KEY
get 401 (@KEYFILE: the key is read from that file, so that it is in no process's argv).
HEAD (any path) answers with a body after the head, as a broken server might; /hang never
answers.
Routes: OpenAI chat completions and Responses (streaming SSE), Anthropic messages
(streaming SSE), /echo (headers and body back; a Range header is honoured, 206), /timed (10 events 200 ms apart, with send
times), /ndjson (chunked NDJSON, same timing), /big?bytes=N[&numbered=1] (N bytes
streamed, each 64 KiB block numbered if asked; how many were sent,
after each MiB, in LOGFILE.big-progress).
"""
import json, ssl, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_file, expected = sys.argv[1], sys.argv[2], sys.argv[3]
if expected.startswith("@"):
    with open(expected[1:]) as key_file:
        expected = key_file.read()
tls = sys.argv[4:7] if len(sys.argv) >= 7 and sys.argv[4] == "--tls" else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def credential(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[7:]
        return self.headers.get("x-api-key")

    def record(self, body):
        entry = {"method": self.command, "path": self.path, "headers": [[k, v] for k, v in self.headers.items()],
                 "bodyLength": len(body), "body": body.decode("utf-8", "replace")[:4000]}
        with open(log_file, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def start_stream(self, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def sse(self, event, data):
        line = (f"event: {event}\n" if event else "") + "data: " + (data if isinstance(data, str) else json.dumps(data)) + "\n\n"
        self.chunk(line.encode())

    def do_GET(self):
        self.handle_any(b"")

    def do_HEAD(self):
        # Misbehaves on purpose: a HEAD answer followed by a body, which a client that reused
        # this connection would take for its next answer.
        self.record(b"")
        payload = ("BLEED:" + (self.credential() or "")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        time.sleep(0.05)
        self.wfile.write(payload)
        self.wfile.flush()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.handle_any(self.rfile.read(length) if length else b"")

    def handle_any(self, body):
        self.record(body)
        path = self.path.split("?")[0]
        if self.credential() != expected:
            payload = json.dumps({"error": {"message": "bad key", "type": "invalid_request_error"}}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        request = json.loads(body) if body and self.headers.get("Content-Type", "").startswith("application/json") else {}
        if path.endswith("/chat/completions"):
            return self.chat(request)
        if path.endswith("/responses"):
            return self.responses_api(request)
        if path.endswith("/messages"):
            return self.messages(request)
        if path.endswith("/echo"):
            payload = json.dumps({"headers": dict(self.headers.items()), "body": body.decode("utf-8", "replace"),
                                  "key": self.credential()}).encode()
            status, wanted = 200, self.headers.get("Range", "")
            if wanted.startswith("bytes="):  # as any static or cached resource: 206 with the range
                first, _, last = wanted[6:].partition("-")
                payload = payload[int(first):int(last) + 1 if last else len(payload)]
                status = 206
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Echo-Authorization", self.headers.get("Authorization", ""))
            self.send_header(self.credential() or "X-No-Key", "the key as a header name")
            self.send_header("X-One", "x")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if path.endswith("/timed") or path.endswith("/ndjson"):
            ndjson = path.endswith("/ndjson")
            query = self.path.split("?", 1)[1] if "?" in self.path else ""
            content_type = "application/x-ndjson" if ndjson else ("text/event-stream; charset=utf-8" if "charset" in query else "text/event-stream")
            self.start_stream(content_type)
            for index in range(10):
                sent = time.time()
                item = {"index": index, "sent": sent}
                self.chunk((json.dumps(item) + "\n").encode() if ndjson else ("data: " + json.dumps(item) + "\n\n").encode())
                time.sleep(0.2)
            self.end_stream()
            return
        if path.endswith("/big"):
            total = int(self.path.split("bytes=")[1].split("&")[0]) if "bytes=" in self.path else 1 << 20
            self.start_stream("application/octet-stream")
            numbered = "numbered=1" in self.path  # each 64 KiB block starts with its number, to check order
            block = b"x" * 65536
            sent = 0
            while sent < total:
                if numbered:
                    block = b"%08d" % (sent // 65536) + b"x" * (65536 - 8)
                piece = block[: min(65536, total - sent)]
                self.chunk(piece)
                sent += len(piece)
                if sent % (1 << 20) == 0:  # how far the client let it get (tests of back-pressure)
                    with open(log_file + ".big-progress", "w") as f:
                        f.write(str(sent))
            self.end_stream()
            return
        if path.endswith("/hang"):  # an upstream that never answers
            time.sleep(3600)
            return
        if path.endswith("/small"):
            payload = b'{"ok":true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def chat(self, request):
        self.start_stream("text/event-stream; charset=utf-8")
        for piece in ["Hello", " from", " upstream"]:
            self.sse(None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": request.get("model", "m"),
                            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        self.sse(None, {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        self.sse(None, "[DONE]")
        self.end_stream()

    def responses_api(self, request):
        text = "Hello from the fake Responses API"
        model = request.get("model", "m")
        base = {"id": "resp_1", "object": "response", "created_at": 1, "model": model, "output": [],
                "status": "in_progress", "parallel_tool_calls": False, "tool_choice": "auto", "tools": []}
        message = {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
                   "content": [{"type": "output_text", "text": text, "annotations": []}]}
        self.start_stream("text/event-stream")
        self.sse("response.created", {"type": "response.created", "sequence_number": 0, "response": base})
        self.sse("response.output_item.added", {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
                                                "item": dict(message, status="in_progress", content=[])})
        self.sse("response.content_part.added", {"type": "response.content_part.added", "sequence_number": 2, "item_id": "msg_1",
                                                 "output_index": 0, "content_index": 0,
                                                 "part": {"type": "output_text", "text": "", "annotations": []}})
        self.sse("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 3, "item_id": "msg_1",
                                                "output_index": 0, "content_index": 0, "delta": text, "logprobs": []})
        self.sse("response.output_text.done", {"type": "response.output_text.done", "sequence_number": 4, "item_id": "msg_1",
                                               "output_index": 0, "content_index": 0, "text": text, "logprobs": []})
        self.sse("response.content_part.done", {"type": "response.content_part.done", "sequence_number": 5, "item_id": "msg_1",
                                                "output_index": 0, "content_index": 0,
                                                "part": {"type": "output_text", "text": text, "annotations": []}})
        self.sse("response.output_item.done", {"type": "response.output_item.done", "sequence_number": 6, "output_index": 0,
                                               "item": message})
        done = dict(base, status="completed", output=[message],
                    usage={"input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
                           "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}})
        self.sse("response.completed", {"type": "response.completed", "sequence_number": 7, "response": done})
        self.end_stream()

    def messages(self, request):
        self.start_stream("text/event-stream; charset=utf-8")
        self.sse("message_start", {"type": "message_start", "message": {
            "id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": request.get("model", "m"),
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 0}}})
        self.sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
        for piece in ["Hello", " from", " Claude"]:
            self.sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}})
        self.sse("content_block_stop", {"type": "content_block_stop", "index": 0})
        self.sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                   "usage": {"output_tokens": 3}})
        self.sse("message_stop", {"type": "message_stop"})
        self.end_stream()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if tls:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls[1], tls[2])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
