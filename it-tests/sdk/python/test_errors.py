"""An unknown model is refused by the gateway in each API's own error shape, as each SDK reads it."""

import anthropic
import openai
import pytest

from conftest import UNKNOWN_MODEL


def test_openai_sdk_raises_not_found_for_an_unknown_model(openai_client):
    with pytest.raises(openai.NotFoundError) as raised:
        openai_client.chat.completions.create(model=UNKNOWN_MODEL, messages=[{"role": "user", "content": "hi"}])

    assert raised.value.status_code == 404
    assert raised.value.code == "model_not_found"
    assert UNKNOWN_MODEL in raised.value.message


def test_anthropic_sdk_raises_not_found_for_an_unknown_model(anthropic_client):
    with pytest.raises(anthropic.NotFoundError) as raised:
        anthropic_client.messages.create(
            model=UNKNOWN_MODEL, max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )

    assert raised.value.status_code == 404
    assert raised.value.body["type"] == "error"
    assert raised.value.body["error"]["type"] == "not_found_error"
