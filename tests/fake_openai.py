"""A fake OpenAI-compatible server on 127.0.0.1 for tests: deterministic canned replies, faults on cue.

    with FakeOpenAI(delay_ms=50) as server:
        cfg = LLMConfig(backend="openai", model="m", base_url=server.url)

Replies are derived from the first user message only (so a repair round gets the original answer):
a chains / statements / definition / diagnosis JSON object when the request's ``response_format``
schema asks for one (built from the text's sentences, the numbered steps, the concept name), else
``{"echo": <hash of the message>, "model": <model>}``. Faults, each for the first k calls:
``fail_first`` (answer ``fail_status``, 429 with ``Retry-After: retry_after``, or 500),
``malformed_first`` (prose around JSON), ``truncated_first`` (JSON cut in half). ``capacity``
limits the requests worked on at once (a GPU server's batch), the others queue.
Counters: ``calls`` per model, ``by_messages`` per :func:`messages_id`, ``total``, ``log``, ``peak``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import xxhash


def messages_id(messages: list[dict]) -> str:
    """The identity of a request's messages, computed the same way by a client and by this server."""
    return xxhash.xxh3_64_hexdigest(json.dumps(messages, sort_keys=True).encode())


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.findall(r"[^.!?\n]+[.!?]?", text) if len(s.split()) >= 3]


def canned(body: dict[str, Any]) -> str:
    """The deterministic reply content for a chat-completions request body."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
    props = schema.get("properties", {})
    if "chains" in props:
        text = user.split('"""')[1] if user.count('"""') >= 2 else user
        sents = _sentences(text)
        chains = []
        for start in range(0, min(len(sents), 8) - 1, 4):
            group = sents[start:start + 4]
            if len(group) >= 2:
                chains.append({"process": " ".join(group[0].split()[:3]).lower(),
                               "preconditions": [], "steps": [{"text": s} for s in group]})
        return json.dumps({"chains": chains})
    if "statements" in props:
        steps = re.findall(r"^(\d+)\. (.+)$", user, re.M)
        out = []
        for number, step in steps:
            words = re.findall(r"[A-Za-z]{4,}", step)
            if len(words) >= 4:  # relations: one to keep, one alias to map, one unknown to skip
                relation = ("causes", "leads to", "produces", "teleports")[(int(number) - 1) % 4]
                out.append({"subject": " ".join(words[:2]).lower(), "relation": relation,
                            "object": " ".join(words[-2:]).lower(), "quote": step})
        return json.dumps({"statements": out})
    if "definition" in props:
        name = re.search(r"^Concept: (.+)$", user, re.M)
        concept = name.group(1) if name else "it"
        return json.dumps({"category": "entity", "definition": f"{concept} is a thing the corpus describes."})
    if "label" in props:  # a failure diagnosis: a concept gap on the first numbered node
        return json.dumps({"label": "concept_gap", "nodes": [1, 99], "reason": "it confuses node 1"})
    return json.dumps({"echo": xxhash.xxh3_64_hexdigest(user.encode()), "model": body.get("model")})


class FakeOpenAI:
    def __init__(self, *, delay_ms: float = 0, fail_first: int = 0, fail_status: int = 429,
                 retry_after: str | None = None, malformed_first: int = 0, truncated_first: int = 0,
                 capacity: int = 0):
        self.delay_ms = delay_ms
        # like a GPU server's batch limit: at most `capacity` requests are worked on at once, the
        # others wait their turn (0 = no limit); `peak` is the most seen in flight at once
        self._capacity = threading.BoundedSemaphore(capacity) if capacity > 0 else None
        self.in_flight = self.peak = 0
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.retry_after = retry_after
        self.malformed_first = malformed_first
        self.truncated_first = truncated_first
        self.responder = canned
        self.calls: Counter[str] = Counter()  # every request that reached the server, per model
        self.by_messages: Counter[str] = Counter()
        self.log: list[dict[str, Any]] = []  # {"model", "messages", "status"} in arrival order
        self.total = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "FakeOpenAI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a real server
            disable_nagle_algorithm = True  # else headers and body, written apart, wait ~40 ms for an ACK

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                status, content = fake._answer(body, self.headers.get("Authorization", ""))
                if status != 200:
                    headers = {"Retry-After": fake.retry_after} if status == 429 and fake.retry_after else {}
                    return self._send(status, {"error": {"message": content}}, headers)
                self._send(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "model": body.get("model"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                })

            def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a client that gave up (timed out)
                import sys

                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def _answer(self, body: dict, auth: str) -> tuple[int, str]:
        with self._lock:
            self.total += 1
            n = self.total
            self.calls[body.get("model", "")] += 1
            self.by_messages[messages_id(body["messages"])] += 1
            entry = {"model": body.get("model"), "messages": body["messages"], "auth": auth, "status": 200}
            self.log.append(entry)
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if self._capacity is not None:
                with self._capacity:
                    if self.delay_ms:
                        time.sleep(self.delay_ms / 1000)
            elif self.delay_ms:
                time.sleep(self.delay_ms / 1000)
        finally:
            with self._lock:
                self.in_flight -= 1
        if n <= self.fail_first:
            entry["status"] = self.fail_status
            return self.fail_status, "overloaded" if self.fail_status == 429 else "internal error"
        content = self.responder(body)
        if n <= self.fail_first + self.malformed_first:
            return 200, f"Sure! Here is the JSON you asked for: {content}"
        if n <= self.fail_first + self.malformed_first + self.truncated_first:
            return 200, content[: len(content) // 2]
        return 200, content

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


if __name__ == "__main__":  # a standalone fake: python tests/fake_openai.py [delay_ms [capacity]]
    import sys

    server = FakeOpenAI(delay_ms=float(sys.argv[1]) if len(sys.argv) > 1 else 0,
                        capacity=int(sys.argv[2]) if len(sys.argv) > 2 else 0).start()
    print(server.url, flush=True)
    threading.Event().wait()
