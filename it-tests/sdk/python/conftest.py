"""Clients of the official SDKs pointed at the gateway; the base URL is the only thing changed.

The model names below are aliases that OfficialSdksEndToEndTest creates over the control plane's
REST API before it runs these tests; the gateway rewrites each to the upstream model next to it,
and the mock provider answers with the model it received.
"""

import os

import anthropic
import openai
import pytest

CHAT_MODEL = "sdk-chat"
CHAT_UPSTREAM = "gpt-4o-mini"
EMBEDDING_MODEL = "sdk-embedding"
EMBEDDING_UPSTREAM = "text-embedding-3-small"
CLAUDE_MODEL = "sdk-claude"
CLAUDE_UPSTREAM = "claude-3-5-haiku-latest"
UNKNOWN_MODEL = "sdk-no-such-model"


def base_url() -> str:
    url = os.environ.get("LLMGW_BASE_URL")
    if not url:
        pytest.fail("LLMGW_BASE_URL is not set (expected: the gateway's listener, e.g. http://127.0.0.1:10000)")
    return url.rstrip("/")


@pytest.fixture
def openai_client():
    with openai.OpenAI(base_url=base_url() + "/v1", api_key="sk-test") as client:
        yield client


@pytest.fixture
def anthropic_client():
    with anthropic.Anthropic(base_url=base_url(), api_key="sk-ant-test") as client:
        yield client
