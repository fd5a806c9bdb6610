#!/usr/bin/env python3
"""Real clients for the credential proxy's tests.

usage: proxy-client.py MODE BASE_URL KEY [EXTRA]
  openai-chat / openai-responses   the openai SDK, streaming; prints the text
  anthropic                        the anthropic SDK, streaming (x-api-key); prints the text
  timed PATH                       GET BASE_URL+PATH with Authorization: Bearer KEY, reading
                                   line by line; prints [[index, sent, received], ...] as JSON
"""
import json, sys, time, urllib.request

mode, base, key = sys.argv[1], sys.argv[2], sys.argv[3]

if mode == "openai-chat":
    import openai
    client = openai.OpenAI(base_url=base, api_key=key, max_retries=0)
    stream = client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "hi"}], stream=True)
    print("".join((chunk.choices[0].delta.content or "") for chunk in stream if chunk.choices))
elif mode == "openai-responses":
    import openai
    client = openai.OpenAI(base_url=base, api_key=key, max_retries=0)
    text = []
    with client.responses.stream(model="gpt-test", input="hi") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                text.append(event.delta)
    print("".join(text))
elif mode == "anthropic":
    import anthropic
    client = anthropic.Anthropic(base_url=base, api_key=key, max_retries=0)
    with client.messages.stream(model="claude-test", max_tokens=32, messages=[{"role": "user", "content": "hi"}]) as stream:
        print("".join(stream.text_stream))
elif mode == "timed":
    request = urllib.request.Request(base + sys.argv[4], headers={"Authorization": "Bearer " + key})
    arrivals = []
    with urllib.request.urlopen(request) as response:
        print(response.headers.get("Content-Type"), file=sys.stderr)
        for line in response:
            line = line.strip()
            if line.startswith(b"data: "):
                line = line[6:]
            if not line:
                continue
            item = json.loads(line)
            arrivals.append([item["index"], item["sent"], time.time()])
    print(json.dumps(arrivals))
else:
    sys.exit("unknown mode " + mode)
