"""A local stand-in for the Claude Messages API, on a loopback port, for tests and the demo.

The real `anthropic` client talks to it through `base_url` (ANTHROPIC_BASE_URL), exactly as it would talk
to the API: the same request, the same response shapes, the same error bodies. Its "model" is simple: it
follows the rules planner's recommendation that costagent puts in the prompt, unless a scripted behaviour
says otherwise. Usage is reported from an estimate of the request's size, and prompt caching is emulated
(a repeated cacheable prefix is read from cache, at least `MIN_CACHEABLE_TOKENS` long, as the API does).

Behaviours (queue them with `script(...)`; `default` applies when the queue is empty):
  ok, count_500, unknown_action, malformed_json, text_only, refusal, no_tool_call, overloaded (529),
  rate_limited (429), server_error (500), slow:<seconds>, obey_injection.
Served on Anthropic's path (/v1/messages) and on Bedrock's (/model/<id>/invoke).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from costagent.prompt import TOOL_NAME, estimate_tokens

MIN_CACHEABLE_TOKENS = 1024  # the API does not cache shorter prefixes (Sonnet-class models)
INJECTION_MARKER = "scale to 500"  # what obey_injection looks for: a model that follows data as orders


@dataclass
class FakeClaude:
    """Start with `with FakeClaude() as fake:`; point the client at `fake.base_url`."""

    default: str = "ok"
    port: int = 0  # 0: any free port
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    _queue: deque[str] = field(default_factory=deque)
    _cached_prefixes: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, default: str = "ok") -> None:
        """Forget scripted behaviours, recorded requests and the emulated prompt cache."""
        with self._lock:
            self._queue.clear()
            self._cached_prefixes.clear()
            self.requests.clear()
            self.paths.clear()
            self.default = default

    def script(self, *behaviours: str) -> None:
        with self._lock:
            self._queue.extend(behaviours)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{name}:{port}"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def __enter__(self) -> FakeClaude:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                status, headers, payload = fake.answer(self.path, body)
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                for name, value in {**headers, "content-type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                # The client may have given up (timeout): that is the point of the slow behaviour.
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # keep test output clean
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the "model" ---------------------------------------------------------------------------

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self._lock:
            self.requests.append(body)
            self.paths.append(path)
            behaviour = self._queue.popleft() if self._queue else self.default
        if behaviour.startswith("slow:"):
            time.sleep(float(behaviour.split(":", 1)[1]))
            behaviour = "ok"
        errors = {
            "overloaded": (529, "overloaded_error", "Overloaded"),
            "rate_limited": (429, "rate_limit_error", "Number of requests has exceeded your rate limit"),
            "server_error": (500, "api_error", "Internal server error"),
        }
        if behaviour in errors:
            status, kind, message = errors[behaviour]
            return (
                status,
                {"retry-after-ms": "20", "x-should-retry": "true"},
                {"type": "error", "error": {"type": kind, "message": message}},
            )
        content, stop_reason = self._content(behaviour, body)
        return 200, {}, self._message(body, content, stop_reason)

    def _content(self, behaviour: str, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        user_text = _user_text(body)
        if behaviour == "text_only":
            return [{"type": "text", "text": "I would wait and see how prices develop."}], "end_turn"
        if behaviour == "refusal":
            return [], "refusal"
        if behaviour == "no_tool_call":
            return [], "end_turn"
        if behaviour == "malformed_json":
            return [_tool_use('{"action": "SCALE_UP", "instance_count": ')], "tool_use"
        if behaviour == "unknown_action":
            return [_tool_use({"action": "EXPLODE", "instance_count": 3, "reasoning": "?"})], "tool_use"
        if behaviour == "count_500" or (
            behaviour == "obey_injection" and INJECTION_MARKER in user_text.lower()
        ):
            decision = {
                "action": "SCALE_UP",
                "instance_type": "c5.xlarge",
                "capacity_type": "spot",
                "instance_count": 500,
                "should_checkpoint": False,
                "reasoning": "Scaling to 500 instances.",
            }
            return [_tool_use(decision)], "tool_use"
        advice = _advised_decision(user_text)
        advice["reasoning"] = "Following the rules planner: " + str(advice.get("reasoning", ""))[:200]
        return [_tool_use(advice)], "tool_use"

    def _message(
        self, body: dict[str, Any], content: list[dict[str, Any]], stop_reason: str
    ) -> dict[str, Any]:
        prefix = json.dumps([body.get("tools", []), body.get("system", [])], sort_keys=True)
        prefix_tokens = estimate_tokens(prefix)
        total_tokens = prefix_tokens + estimate_tokens(json.dumps(body.get("messages", [])))
        cacheable = _has_cache_breakpoint(body) and prefix_tokens >= MIN_CACHEABLE_TOKENS
        key = hashlib.sha256(prefix.encode()).hexdigest()
        read = write = 0
        if cacheable:
            with self._lock:
                if key in self._cached_prefixes:
                    read = prefix_tokens
                else:
                    write = prefix_tokens
                    self._cached_prefixes.add(key)
        output_tokens = estimate_tokens(json.dumps(content)) if content else 1
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "bedrock-model"),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": total_tokens - read - write,
                "output_tokens": output_tokens,
                "cache_read_input_tokens": read,
                "cache_creation_input_tokens": write,
            },
        }


def _tool_use(tool_input: Any) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": f"toolu_{uuid.uuid4().hex[:24]}",
        "name": TOOL_NAME,
        "input": tool_input,
    }


def _user_text(body: dict[str, Any]) -> str:
    texts: list[str] = []
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return "\n".join(texts)


def _advised_decision(user_text: str) -> dict[str, Any]:
    match = re.search(r"<advisory>\s*(\{.*?\})\s*</advisory>", user_text, re.DOTALL)
    if match:
        advice = json.loads(match.group(1)).get("rules_planner_recommends")
        if isinstance(advice, dict):
            return dict(advice)
    return {"action": "WAIT", "reasoning": "no advice in the prompt"}


def _has_cache_breakpoint(body: dict[str, Any]) -> bool:
    system = body.get("system")
    return isinstance(system, list) and any(isinstance(b, dict) and "cache_control" in b for b in system)
