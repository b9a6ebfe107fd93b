"""vLLM server-mode rollout client: HTTP to each rollout server's ``/infer/`` endpoint.

Protocol: ``GET {base_url}/health/`` answers 200 when a server is up (``check_servers``,
bounded by ``vllm.server.timeout_s``). One decode call = one microbatch: ``POST
{base_url}/infer/`` (bounded by ``vllm.server.infer_timeout_s``; null: no limit) with JSON
``{"infer_requests": [{"prompt": ...}, ...], "request_config": {...}}``; the server answers a
JSON list with one ``{"text": ...}`` object per request, in order. Microbatches are spread
round-robin across servers and each server's queue runs on its own thread, so no server ever
receives more than ``decode_batch_size`` sequences in one call.
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

from src.config.rollout import RolloutMatchingConfig


class RolloutServerError(RuntimeError):
    """A rollout server is down, timed out, or answered something that is not a rollout."""


class VllmServerClient:
    def __init__(self, rollout: RolloutMatchingConfig):
        if not rollout["server_base_urls"]:
            raise ValueError("rollout_matching.vllm.server.servers is empty: server mode needs at least one base_url")
        self.base_urls = tuple(url.rstrip("/") for url in rollout["server_base_urls"])
        self.connect_timeout: Optional[float] = rollout["server_timeout_s"]
        self.infer_timeout: Optional[float] = rollout["infer_timeout_s"]
        self.request_config = _request_config(rollout)

    def generate(self, requests: Sequence[dict], decode_batch_size: int) -> List[dict]:
        """Completions for ``requests``, in order, in calls of at most ``decode_batch_size``."""
        if decode_batch_size < 1:
            raise ValueError(f"decode_batch_size must be >= 1, got {decode_batch_size}")
        batches = [list(requests[i:i + decode_batch_size]) for i in range(0, len(requests), decode_batch_size)]
        queues: Dict[str, List[int]] = {url: [] for url in self.base_urls}
        for index in range(len(batches)):
            queues[self.base_urls[index % len(self.base_urls)]].append(index)
        results: List[Optional[List[dict]]] = [None] * len(batches)

        def drain(url: str) -> None:
            for index in queues[url]:
                results[index] = self.infer(url, batches[index])

        with ThreadPoolExecutor(max_workers=len(self.base_urls)) as pool:
            for future in [pool.submit(drain, url) for url in self.base_urls if queues[url]]:
                future.result()  # re-raises the first server's error
        return [completion for batch in results for completion in batch]

    def check_servers(self) -> None:
        """GET ``{base_url}/health/`` on every server within ``vllm.server.timeout_s``; the
        first server that does not answer 200 is named in the error."""
        for base_url in self.base_urls:
            status = health(base_url, self.connect_timeout)
            if status.isdigit() and status != "200":
                raise RolloutServerError(f"rollout server {base_url} is not healthy (HTTP {status})")
            if status != "200":
                raise RolloutServerError(f"rollout server {base_url} is unreachable or timed out: {status}")

    def infer(self, base_url: str, batch: List[dict]) -> List[dict]:
        body = json.dumps({"infer_requests": batch, "request_config": self.request_config}).encode("utf-8")
        request = urllib.request.Request(f"{base_url}/infer/", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.infer_timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise RolloutServerError(f"rollout server {base_url} answered HTTP {error.code} to /infer/") from error
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise RolloutServerError(f"rollout server {base_url} is unreachable or timed out: {reason}") from error
        return _completions(base_url, payload, len(batch))


def health(base_url: str, timeout: Optional[float]) -> str:
    """One ``GET {base_url}/health/``: the HTTP status as text ("200" when up), or why there
    was no answer. The launcher polls with this, the trainer checks with it."""
    try:
        with urllib.request.urlopen(f"{base_url.rstrip('/')}/health/", timeout=timeout) as response:
            return str(response.status)
    except urllib.error.HTTPError as error:
        return str(error.code)
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError, ValueError) as error:
        return f"no answer ({getattr(error, 'reason', error)})"


def _completions(base_url: str, payload: bytes, expected: int) -> List[dict]:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        raise RolloutServerError(f"rollout server {base_url} answered invalid JSON: {error}") from error
    if not isinstance(data, list) or len(data) != expected or not all(
            isinstance(item, dict) and isinstance(item.get("text"), str) for item in data):
        raise RolloutServerError(f"rollout server {base_url} answered garbage: expected a list of {expected} "
                                 f"{{'text': str}} objects, got {str(data)[:120]!r}")
    return data


def _request_config(rollout: RolloutMatchingConfig) -> dict:
    decoding = rollout.get("decoding") or {}
    return {
        "max_tokens": rollout.get("max_new_tokens"),
        "temperature": decoding.get("temperature", 0.0),
        "top_p": decoding.get("top_p", 1.0),
        "top_k": decoding.get("top_k", -1),
        "repetition_penalty": rollout.get("repetition_penalty", 1.0),
    }
