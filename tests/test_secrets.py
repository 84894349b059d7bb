"""The one redaction (`config.secrets`) and the stream guard that runs it on every line that leaves the process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multusctl.cli.streams import GuardedStream
from multusctl.config import kubeconfig as kc_mod
from multusctl.config.secrets import fingerprint, redact, redact_url, remember, user_secrets
from multusctl.provision.kubeconfig_text import display
from tests.fuzzkit import examples

_secret_chars = st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc"), min_codepoint=33)


@settings(max_examples=examples(200), deadline=None)
@given(core=st.text(_secret_chars, min_size=8, max_size=40), inner=st.sampled_from(["", "\n", "\t", " x\n"]))
def test_a_secret_is_hidden_in_every_form_a_library_prints_it(core: str, inner: str) -> None:
    secret = core[:4] + inner + core[4:]
    remember([secret])
    # (how a library prints it, the secret's text inside that print)
    forms = {
        "raw": (secret, secret.strip()),
        "repr": (repr(secret), repr(secret)[1:-1]),  # Python exceptions quote values this way
        "bytes repr": (f"Illegal header value {('Bearer ' + secret).encode()!r}",  # h11's message
                       repr(secret.encode())[2:-1]),
        "json": (json.dumps({"token": secret}), json.dumps(secret)[1:-1]),
    }
    for name, (text, inside) in forms.items():
        out = redact(f"error: {text} (end)")
        assert inside not in out, (name, out)
        assert "<redacted sha256:" in out, (name, out)
        assert out.startswith("error: ") and out.endswith(" (end)"), (name, out)  # the text around survives


def test_the_whitespace_around_a_secret_is_kept() -> None:
    remember(["tok3nWithNewline\n"])
    assert redact("a tok3nWithNewline\nb\n") == f"a <redacted {fingerprint('tok3nWithNewline')}>\nb\n"


def test_short_values_are_not_secrets_to_search_for() -> None:
    remember(["abc"])
    assert redact("abc abc") == "abc abc"


@pytest.mark.parametrize("url, shown", [
    ("https://user:pw@10.0.0.1:6443", "https://<redacted>@10.0.0.1:6443"),
    ("https://token@host:443/path", "https://<redacted>@host:443/path"),
    ("https://[fd00::1]:6443", "https://[fd00::1]:6443"),
    ("https://10.43.0.1:443", "https://10.43.0.1:443"),
])
def test_user_info_in_a_url_is_never_printed(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_every_credential_of_a_user_counts_whatever_its_key() -> None:
    user = {
        "auth-provider": {"name": "oidc", "config": {"client-id": "kubernetes", "client-secret": "cs-value-1",
                                                      "id-token": "idt-value-2", "refresh-token": "rt-value-3",
                                                      "idp-issuer-url": "https://issuer"}},
        "exec": {"command": "aws", "apiVersion": "client.authentication.k8s.io/v1",
                 "args": ["--token", "arg-value-4"], "env": [{"name": "AWS_SECRET", "value": "env-value-5"}]},
        "tokenFile": "/var/run/secrets/token", "username": "admin", "password": "pw-value-6",
        "some-future-field": "future-value-7",
    }
    found = user_secrets(user)
    assert {"cs-value-1", "idt-value-2", "rt-value-3", "arg-value-4", "env-value-5", "pw-value-6",
            "future-value-7"} <= found
    assert not found & {"kubernetes", "https://issuer", "aws", "/var/run/secrets/token", "admin", "AWS_SECRET"}


OIDC_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://admin:hunter2@10.0.0.1:6443
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
users:
- name: u
  user:
    auth-provider:
      name: oidc
      config:
        client-id: kubernetes
        client-secret: oidc-client-secret-value
        id-token: eyJhbGciOiJSUzI1NiJ9.b2lkYw.sig
        refresh-token: refresh-token-value
- name: e
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: aws
      args:
        - --token
        - exec-arg-secret-value
      env:
        - name: AWS_SECRET
          value: exec-env-secret-value
"""
OIDC_SECRETS = ["hunter2", "oidc-client-secret-value", "eyJhbGciOiJSUzI1NiJ9.b2lkYw.sig", "refresh-token-value",
                "exec-arg-secret-value", "exec-env-secret-value"]


def test_the_dry_run_diff_shows_no_credential_of_any_kind() -> None:
    # A fresh process: the values must be hidden by the display rules themselves, not by a registry that
    # some earlier parse in this test session happened to fill.
    code = ("import sys; from multusctl.provision.kubeconfig_text import display; "
            "sys.stdout.write(display(sys.stdin.read(), set()))")
    out = subprocess.run([sys.executable, "-c", code], input=OIDC_KUBECONFIG, capture_output=True, text=True,
                         check=True).stdout
    for s in OIDC_SECRETS:
        assert s not in out, out
    assert "client-id: kubernetes" in out and "command: aws" in out and "- name: AWS_SECRET" in out
    assert "server: https://<redacted>@10.0.0.1:6443" in out


def test_an_unparseable_old_file_is_not_shown_at_all() -> None:
    text = "token: !eyJsecretsecretsecret\n  broken: [\n"
    out = display(text, set())
    assert "eyJsecret" not in out and out.startswith("# (the old file's 2 line(s) are not shown")


def test_parsing_a_kubeconfig_remembers_all_its_credentials() -> None:
    kc = kc_mod.parse(OIDC_KUBECONFIG)
    assert set(OIDC_SECRETS) - {"hunter2"} <= kc.secrets
    # hunter2 is 7 characters: too short to search for in free text, so URLs are shown without user info.
    assert "hunter2" not in kc.server_shown


def test_the_stream_guard_redacts_and_escapes_whole_lines_split_across_writes() -> None:
    remember(["guarded-secret-value"])
    inner = io.StringIO()
    g = GuardedStream(inner, "stdout")  # type: ignore[arg-type]
    for piece in ["Bearer guar", "ded-secret-", "value \x1b]0;title\x07 \x1b[1mbold\x1b[0m \ud800", "\n", "tail"]:
        g.write(piece)
    assert inner.getvalue() == (f"Bearer <redacted {fingerprint('guarded-secret-value')}> \\x1b]0;title\\x07 "
                                "\x1b[1mbold\x1b[0m \\ud800\n")
    g.flush()
    assert inner.getvalue().endswith("\ntail")


def test_inspect_never_prints_a_url_password(tmp_path: Path) -> None:
    path = tmp_path / "kc"
    path.write_text(OIDC_KUBECONFIG.replace("current-context: x", "current-context: x\n"))
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    proc = subprocess.run([sys.executable, "-m", "multusctl", "kubeconfig", "inspect", "--path", str(path)],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    both = proc.stdout + proc.stderr
    assert "10.0.0.1:6443" in both
    for s in OIDC_SECRETS:
        assert s not in both, both


@pytest.mark.parametrize("server, password", [
    ("admin:pwNS5555@127.0.0.1:6443", "pwNS5555"),  # no scheme: client-go adds https://
    ("https://admin:pa#ss9876@127.0.0.1:6443", "pa#ss9876"),  # unencoded '#': urlsplit sees no user info
    ("https://admin:p/w?x9876@127.0.0.1:6443", "p/w?x9876"),
])
def test_a_url_password_is_hidden_whatever_the_url_looks_like(server: str, password: str, tmp_path: Path) -> None:
    from tests.distro_roots import k3s_server
    from tests.noderoot import File, make_root

    conf = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
    kc = (f"apiVersion: v1\nclusters:\n- name: c\n  cluster:\n    server: '{server}'\ncontexts:\n- name: x\n"
          "  context: {cluster: c, user: u}\ncurrent-context: x\nusers:\n- name: u\n  user: {token: abc}\n")
    root = make_root(tmp_path / "node", {**k3s_server(), f"{conf}/00-multus.conf": json.dumps(
        {"cniVersion": "0.3.1", "name": "m", "type": "multus", "kubeconfig": f"{conf}/multus.d/multus.kubeconfig",
         "delegates": [{"cniVersion": "0.3.1", "name": "cbr0", "type": "flannel"}]}),
        f"{conf}/multus.d/multus.kubeconfig": File(kc, mode=0o600)})
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    for args in (["check"], ["check", "-v"], ["check", "-o", "json"], ["check", "-o", "sarif"],
                 ["check", "-o", "junit"], ["kubeconfig", "inspect"]):
        proc = subprocess.run([sys.executable, "-m", "multusctl", *args, "--root", str(root)], capture_output=True,
                              text=True, env=env, check=False)
        both = proc.stdout + proc.stderr
        assert password not in both, (args, both[-1500:])
        if args != ["check"]:  # the plain text report shows no why, where the server is quoted
            assert "127.0.0.1:6443" in both, (args, both[-1500:])


def test_fingerprint_is_the_sha256_hashlib_gives() -> None:
    # secrets.py takes SHA-256 from the interpreter's own module, not hashlib (start-up): same digest.
    import hashlib

    from multusctl.config.secrets import fingerprint

    for value in ("abc", "tok\udcff", b"\x00\xff" * 40):
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        assert fingerprint(value) == "sha256:" + hashlib.sha256(data).hexdigest()[:8]
