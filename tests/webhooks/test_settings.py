"""Reading webhook settings: several receiver secrets, URLs, and errors that leak nothing."""

import pytest
import standardwebhooks

from tests.webhooks.conftest import new_secret
from webhooks import settings
from webhooks.signing import signed_headers


def test_given_comma_separated_secrets_with_spaces_then_each_is_kept():
    first, second = new_secret(), new_secret()
    env = {"TRACTIAN_WEBHOOK_SECRETS": f" {first} ,{second}"}

    assert settings.receiver_secrets(env) == [first, second]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "TRACTIAN_WEBHOOK_SECRETS is not set"),
        ("whsec_c2VjcmV0,", "TRACTIAN_WEBHOOK_SECRETS entry 2 is empty"),
        ("c2VjcmV0", "TRACTIAN_WEBHOOK_SECRETS entry 1: a secret must look like whsec_<base64>"),
        ("whsec_", "TRACTIAN_WEBHOOK_SECRETS entry 1: webhook secret is empty"),
    ],
)
def test_given_bad_receiver_secrets_then_the_error_names_the_variable(raw, message):
    with pytest.raises(settings.SettingsError) as caught:
        settings.receiver_secrets({"TRACTIAN_WEBHOOK_SECRETS": raw})
    assert str(caught.value) == message


def test_given_a_non_http_notify_url_then_it_is_refused():
    with pytest.raises(settings.SettingsError, match="TRACTIAN_NOTIFY_URL must be an absolute"):
        settings.notify_url({"TRACTIAN_NOTIFY_URL": "ftp://example.com/hook"})


def test_given_a_url_with_a_token_then_its_display_form_hides_path_and_query():
    url = "https://user:pw@hooks.example.com:8443/services/T0/B1/secret?sig=abc"

    assert settings.display_url(url) == "https://hooks.example.com:8443/…"


def test_given_headers_we_sign_then_the_standardwebhooks_library_verifies_them():
    secret = new_secret()
    body = b'{"type":"tractian_elt.sync.completed","data":{"connectionId":"plant-1"}}'

    headers = signed_headers(secret, "msg_ours", body)

    assert standardwebhooks.Webhook(secret).verify(body, headers) == {
        "type": "tractian_elt.sync.completed",
        "data": {"connectionId": "plant-1"},
    }
