"""``openai:NAME[@BASE_URL[,BASE_URL...]]``: any OpenAI-compatible chat-completions server.

Async with bounded concurrency; retries with exponential backoff on 429, 5xx, timeouts and dropped connections;
several base URLs are served round-robin (scale-out over model servers), a retry moving on to the next one.
Options (after ``?``): ``concurrency`` (default 32), ``timeout`` seconds (default 120), ``retries`` (default 6),
``system`` (a system message to prepend). The API key comes from ``OPENAI_API_KEY`` when set.
"""
from __future__ import annotations

import asyncio
import itertools
import os
from typing import Any

import httpx
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from harness import Backend, BackendError, Completion, ContextLimitError, Request, UsageError

DEFAULT_BASE = "https://api.openai.com/v1"


class _Retryable(Exception):
    pass


def _is_context_error(body: str) -> bool:
    text = body.lower()
    return "context_length_exceeded" in text or "maximum context length" in text or "too many tokens" in text


class OpenAIBackend(Backend):
    def __init__(self, target: str = "", **options: Any) -> None:
        super().__init__(target, **options)
        name, _, urls = target.partition("@")
        if not name:
            raise UsageError("malformed model spec: openai:NAME[@BASE_URL] needs a model NAME")
        self.model = name
        bases = [u.strip().rstrip("/") for u in urls.split(",") if u.strip()] or \
                [os.environ.get("OPENAI_BASE_URL", DEFAULT_BASE).rstrip("/")]
        for u in bases:
            if not u.startswith(("http://", "https://")):
                raise UsageError(f"malformed model spec: base URL {u!r} must start with http:// or https://")
        self.bases = bases
        self._next_base = itertools.cycle(range(len(bases)))
        self.concurrency = int(options.get("concurrency", 32))
        self.timeout = float(options.get("timeout", 120))
        self.retries = int(options.get("retries", 6))
        self.system = options.get("system")
        self._sem: asyncio.Semaphore | None = None
        self._client: httpx.AsyncClient | None = None
        self.requests_per_base = [0] * len(bases)

    async def start(self) -> None:
        self._sem = asyncio.Semaphore(self.concurrency)
        headers = {"Content-Type": "application/json"}
        if os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['OPENAI_API_KEY']}"
        self._client = httpx.AsyncClient(timeout=self.timeout, headers=headers,
                                         limits=httpx.Limits(max_connections=self.concurrency * 2))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _payload(self, request: Request) -> dict[str, Any]:
        messages = [{"role": m["role"], "content": m["content"]} for m in request.messages]
        if self.system and (not messages or messages[0]["role"] != "system"):
            messages.insert(0, {"role": "system", "content": self.system})
        payload: dict[str, Any] = {"model": self.model, "messages": messages}
        if request.max_new_tokens is not None:
            payload["max_tokens"] = request.max_new_tokens
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.top_p is not None:
            payload["top_p"] = request.top_p
        if request.stop:
            payload["stop"] = list(request.stop)
        return payload

    async def _post_once(self, payload: dict[str, Any]) -> dict[str, Any]:
        i = next(self._next_base)
        self.requests_per_base[i] += 1
        try:
            resp = await self._client.post(f"{self.bases[i]}/chat/completions", json=payload)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Retryable(f"{type(exc).__name__} from {self.bases[i]}") from exc
        if resp.status_code == 429 or resp.status_code >= 500:
            raise _Retryable(f"HTTP {resp.status_code} from {self.bases[i]}")
        if resp.status_code == 400 and _is_context_error(resp.text):
            raise ContextLimitError(resp.text[:300])
        if resp.status_code >= 400:
            raise BackendError(f"HTTP {resp.status_code} from {self.bases[i]}: {resp.text[:300]}")
        return resp.json()

    async def complete(self, request: Request) -> Completion:
        if self._client is None:
            await self.start()
        payload = self._payload(request)
        async with self._sem:
            try:
                async for attempt in AsyncRetrying(retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
                                                   stop=stop_after_attempt(self.retries + 1),
                                                   wait=wait_exponential_jitter(initial=0.5, max=30), reraise=True):
                    with attempt:
                        data = await self._post_once(payload)
            except _Retryable as exc:
                raise BackendError(f"gave up after {self.retries + 1} attempts: {exc}") from None
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"unexpected response: {str(data)[:300]}") from None
        usage = data.get("usage") or {}
        return Completion(text=text, prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)),
                          finish_reason=choice.get("finish_reason") or "stop")

    async def probe(self) -> None:
        """One 1-token completion from every base URL, once each (no retries): a server that is down, a wrong URL
        or an unknown model name stops the run before any episode."""
        if self._client is None:
            await self.start()
        payload = self._payload(Request(messages=[{"role": "user", "content": "Hi"}], max_new_tokens=1,
                                        temperature=0.0))
        for base in self.bases:
            try:
                resp = await self._client.post(f"{base}/chat/completions", json=payload,
                                               timeout=min(self.timeout, 60.0))
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                raise BackendError(f"no answer from {base} ({type(exc).__name__}: {exc})") from None
            if resp.status_code == 400 and _is_context_error(resp.text):
                continue
            if resp.status_code >= 400:
                raise BackendError(f"HTTP {resp.status_code} from {base}: {resp.text[:200]}")

    def describe(self) -> dict[str, Any]:
        # the servers asked (each could serve another model under the same name); not concurrency, timeouts, retries
        return {"backend": "openai", "model": self.model, "system": self.system, "base_urls": sorted(self.bases)}
