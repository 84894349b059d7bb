"""The bundle's scrub (`config.scrub`, on top of the one redaction): known secrets, JWTs, k3s join tokens and
private keys never survive, raw, JSON-escaped or base64-encoded, wherever they sit in a text."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.config.scrub import PRIVATE_KEY_MARKER, scrub_text, scrub_value
from multusctl.config.secrets import fingerprint
from tests import certs
from tests.bundle.scan import leaks
from tests.fuzzkit import examples

_secret = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=48)
_noise = st.text(max_size=60)


def _forms(secret: str) -> dict[str, str]:
    raw = secret.encode()
    return {
        "raw": secret,
        "json": json.dumps(secret)[1:-1],
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "base64 inside": base64.b64encode(b"token: " + raw + b"\nmore: yes\n").decode(),
        "base64 wrapped": "\n".join(base64.encodebytes(b"x" * 40 + raw + b"y" * 40).decode().split()),
        "base64 twice": base64.b64encode(base64.b64encode(raw)).decode(),
    }


@settings(max_examples=examples(300), deadline=None)
@given(secret=_secret, before=_noise, after=_noise, form=st.sampled_from(sorted(_forms("x" * 8))))
def test_a_known_secret_never_survives_in_any_form_anywhere_in_a_text(secret: str, before: str, after: str,
                                                                       form: str) -> None:
    text = before + _forms(secret)[form] + after
    out = scrub_text(text, [secret])
    assert leaks(out, {"secret": secret}) == [], (form, text, out)


@settings(max_examples=examples(100), deadline=None)
@given(secret=_secret, before=_noise, after=_noise)
def test_a_known_secret_in_a_json_value_is_gone_from_the_value_and_its_serialization(secret: str, before: str,
                                                                                      after: str) -> None:
    doc = {"data": {"kubeconfig": before + secret + after, before: [secret]}}
    out = json.dumps(scrub_value(doc, [secret]))
    assert leaks(out, {"secret": secret}) == []


@settings(max_examples=examples(100), deadline=None)
@given(before=_noise, after=_noise, glue=st.sampled_from(["", " ", "Bearer ", '"', "token=", "\\n"]))
def test_an_unknown_jwt_becomes_its_fingerprint(before: str, after: str, glue: str) -> None:
    token = certs.legacy_token()
    out = scrub_text(before + glue + token + " " + after)
    assert token not in out
    assert token.split(".")[2] not in out  # not even the signature
    if glue != "Bearer ":  # after "Bearer " the one redaction already hides whatever follows
        assert fingerprint(token) in out


def test_a_k3s_join_token_becomes_its_fingerprint_raw_json_and_base64() -> None:
    token = "K10" + "3f" * 32 + "::server:" + "a1b2c3d4e5f6a7b8c9d0"
    for text in (f"token: {token}\n", json.dumps({"token": token}),
                 base64.b64encode(f"token: {token}\n".encode()).decode(), f"--token={token} --server x"):
        out = scrub_text(text)
        assert leaks(out, {"k3s": token, "password": "a1b2c3d4e5f6a7b8c9d0"}) == [], out
    assert fingerprint(token) in scrub_text(f"token: {token}\n")


def test_private_keys_are_removed_raw_escaped_and_base64_but_certificates_stay() -> None:
    pair = certs.plain_client()
    key = pair.key_pem.decode()
    body = key.splitlines()[1]
    kubeconfig = yaml.safe_dump({"users": [{"name": "u", "user": {"client-certificate-data": pair.cert_b64,
                                                                    "client-key-data": pair.key_b64}}]})
    texts = {"pem": f"log: {key} end", "json": json.dumps({"key": key}), "yaml": kubeconfig,
             "json of yaml": json.dumps({"data": {"kubeconfig": kubeconfig}}),
             "base64 yaml": base64.b64encode(kubeconfig.encode()).decode(),
             "cut": "key follows\n" + key[:200]}
    for name, text in texts.items():
        out = scrub_text(text)
        assert leaks(out, {"key body": body}) == [], (name, out)
        assert PRIVATE_KEY_MARKER in out or name == "base64 yaml", (name, out)
    out = scrub_text(kubeconfig)
    assert pair.cert_b64 in out  # the certificate is no secret, and says who the client is
    assert yaml.safe_load(out)["users"][0]["user"]["client-key-data"] == PRIVATE_KEY_MARKER


@settings(max_examples=examples(200), deadline=None)
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_text_without_secrets_is_left_alone(text: str) -> None:
    assert scrub_text(text) == text


def test_ordinary_log_lines_and_paths_are_left_alone() -> None:
    lines = ("2026-12-02T01:00:00Z [verbose] Readiness Indicator file check\n"
             "/var/lib/rancher/k3s/agent/etc/cni/net.d/00-multus.conf\n"
             "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.3.0@sha256:" + "ab" * 32 + "\n"
             "uid 6f1c2e4a-9d7b-4c1e-8f3a-2b5d6e7f8a9b\n")
    assert scrub_text(lines) == lines


def test_a_remembered_key_does_not_hide_another_keys_block_from_removal() -> None:
    """`redact` knows every line of a remembered key, BEGIN line included; were it to run first, the BEGIN
    line of another key would become a fingerprint and the rest of that key would stay (found by the bundle
    test: the admin key remembered, a ConfigMap's kubeconfig holding another key)."""
    remembered, other = certs.admin(), certs.plain_client()
    text = f"client-key-data: {other.key_b64}\nraw: {json.dumps(other.key_pem.decode())}\n"
    out = scrub_text(text, [remembered.key_pem.decode()])
    assert leaks(out, {"other key": key_line(other.key_pem)}) == [], out
    assert out.count(PRIVATE_KEY_MARKER) == 2


def key_line(pem: bytes) -> str:
    lines = pem.decode().splitlines()
    return lines[len(lines) // 2]


@pytest.mark.parametrize(("text", "secret"), [
    ("users:\n- name: x\n  user:\n    token: opaque-token-0123456789\n", "opaque-token-0123456789"),
    ("    password: hunter2hunter2\n", "hunter2hunter2"),
    ('{"client-secret": "c1i3nt-s3cr3t-v4lue"}', "c1i3nt-s3cr3t-v4lue"),
    ("args: [--token=PLANTEDARGTOKEN, --v=2]", "PLANTEDARGTOKEN"),
    ("API_KEY=abcd1234efgh5678", "abcd1234efgh5678"),
])
def test_a_credential_named_setting_is_fingerprinted_also_inside_base64(text: str, secret: str) -> None:
    for form in (text, base64.b64encode(text.encode()).decode()):
        out = scrub_text(form)
        assert secret not in out and not leaks(out, {"s": secret}), out
    assert f"<redacted {fingerprint(secret)}>" in scrub_text(text)


@pytest.mark.parametrize("text", ["tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token",
                                  "token-duration: 24h", "password: <redacted sha256:0123abcd>",
                                  "token: $(TOKEN)", "passwordless: true"])
def test_settings_that_are_no_credential_stay(text: str) -> None:
    assert scrub_text(text) == text


def test_an_env_entry_named_for_a_credential_is_fingerprinted() -> None:
    env = [{"name": "MULTUS_API_TOKEN", "value": "opaque-value-0001"}, {"name": "NODE_NAME", "value": "n1"},
           {"name": "DB_PASSWORD", "value": "pw-0002-pw"}]
    out = scrub_value({"env": env})
    assert out["env"][0]["value"] == f"<redacted {fingerprint('opaque-value-0001')}>"
    assert out["env"][1]["value"] == "n1"
    assert "pw-0002-pw" not in str(out)
