#!/usr/bin/env python3
"""Checks `s1 serve` with the official OpenAI Python client (run by hand; not a test, not a dependency).

    python3 -m venv /tmp/oai && /tmp/oai/bin/pip install openai
    ./build/s1 make-model --shape qwen2.5-tiny --out /tmp/tiny
    ./build/s1 serve -m /tmp/tiny --port 8080 --api-key k &
    /tmp/oai/bin/python tools/openai_client_check.py --base-url http://127.0.0.1:8080/v1 --api-key k

Chat (plain, then with extra_body={"max_thinking_tokens": 16}), streaming with reasoning deltas and usage,
completions, models, and the client's typed errors (404 unknown model, 400 bad field, 401 wrong key).
"""
import argparse
import sys

import openai


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    ap.add_argument("--api-key", default="none")
    a = ap.parse_args()
    client = openai.OpenAI(base_url=a.base_url, api_key=a.api_key)
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    print("openai", openai.__version__)
    models = client.models.list()
    model = models.data[0].id
    print("models:", [m.id for m in models.data])
    check(len(models.data) == 1, "models.list gives the served model")

    msgs = [{"role": "user", "content": "What is 1+1?"}]
    r = client.chat.completions.create(model=model, messages=msgs, max_tokens=16, seed=1, temperature=0.7)
    print("chat:", r.model_dump_json()[:400])
    check(r.object == "chat.completion" and r.choices[0].message.role == "assistant", "chat.completions.create")
    check(r.usage.completion_tokens == 16 and r.choices[0].finish_reason == "length", "usage / finish_reason")

    r = client.chat.completions.create(model=model, messages=msgs, max_tokens=48, seed=1,
                                       extra_body={"max_thinking_tokens": 16})
    msg = r.choices[0].message
    reasoning = getattr(msg, "reasoning_content", None) or (msg.model_extra or {}).get("reasoning_content")
    print("budget:", r.model_dump_json()[:600])
    details = r.usage.completion_tokens_details
    check(reasoning is not None and len(reasoning) > 0, "extra_body max_thinking_tokens -> reasoning_content")
    check(details is not None and details.reasoning_tokens == 16, "usage.completion_tokens_details.reasoning_tokens == 16")

    stream = client.chat.completions.create(model=model, messages=msgs, max_tokens=40, seed=2, stream=True,
                                            stream_options={"include_usage": True},
                                            extra_body={"max_thinking_tokens": 16})
    n_chunks, text, think, usage = 0, "", "", None
    for ch in stream:
        n_chunks += 1
        if ch.usage:
            usage = ch.usage
        if ch.choices:
            d = ch.choices[0].delta
            text += d.content or ""
            think += getattr(d, "reasoning_content", None) or (d.model_extra or {}).get("reasoning_content") or ""
    print(f"stream: {n_chunks} chunks, reasoning {think!r:.80}, content {text!r:.80}, usage {usage}")
    check(n_chunks > 3 and len(think) > 0, "streamed reasoning_content deltas")
    check(usage is not None and usage.completion_tokens == 40, "stream_options.include_usage")

    # Longer than a second: the server answers with a chunked 200 that starts with heartbeat spaces.
    r = client.chat.completions.create(model=model, messages=msgs, max_tokens=400, seed=4)
    check(r.usage.completion_tokens == 400 or r.choices[0].finish_reason == "stop", "long non-streamed (heartbeat) response parses")

    c = client.completions.create(model=model, prompt="Once upon a time", max_tokens=8, seed=3)
    print("completion:", c.model_dump_json()[:300])
    check(c.object == "text_completion" and c.usage.completion_tokens == 8, "completions.create")

    try:
        client.chat.completions.create(model="no-such-model", messages=msgs, max_tokens=4)
        check(False, "unknown model -> NotFoundError")
    except openai.NotFoundError as e:
        print("404:", e.body)
        check(e.status_code == 404, "unknown model -> NotFoundError")
    try:
        client.chat.completions.create(model=model, messages=msgs, max_tokens=4, temperature=9)
        check(False, "temperature 9 -> BadRequestError")
    except openai.BadRequestError as e:
        print("400:", e.body)
        check(e.status_code == 400, "temperature 9 -> BadRequestError")
    if a.api_key != "none":
        bad = openai.OpenAI(base_url=a.base_url, api_key="wrong", max_retries=0)
        try:
            bad.models.list()
            check(False, "wrong key -> AuthenticationError")
        except openai.AuthenticationError as e:
            print("401:", e.body)
            check(e.status_code == 401, "wrong key -> AuthenticationError")

    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
