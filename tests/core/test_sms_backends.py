"""The SMS backends: console outbox, and the HTTP gateway against a local stub server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from talentadmin.core import sms


class _Gateway(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        type(self).received.append(
            {"body": json.loads(self.rfile.read(length)), "auth": self.headers.get("Authorization"),
             "type": self.headers.get("Content-Type")}
        )
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    _Gateway.received = []
    _Gateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/send", _Gateway
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_app(app, gateway):
    url, _ = gateway
    saved = {k: app.config[k] for k in ("SMS_BACKEND", "SMS_HTTP_URL", "SMS_HTTP_TOKEN",
                                        "SMS_HTTP_TEMPLATE")}
    app.config.update(SMS_BACKEND="http", SMS_HTTP_URL=url, SMS_HTTP_TOKEN="t0ken",
                      SMS_HTTP_TEMPLATE='{"phone": "{to}", "msg": "{text}", "sign": "人才港"}')
    yield app
    app.config.update(saved)


def test_http_backend_posts_the_template(http_app, gateway, portal, outbox):
    _, handler = gateway
    assert portal.request_code("13800138000").status_code == 200
    (call,) = handler.received
    assert call["body"]["phone"] == "13800138000" and call["body"]["sign"] == "人才港"
    text = call["body"]["msg"]  # the signature, then the code in the text
    assert text.startswith("【人才服务】") and len([c for c in text if c.isdigit()]) >= 6
    assert call["auth"] == "Bearer t0ken" and call["type"].startswith("application/json")
    assert outbox.messages() == []  # the console outbox is not used


def test_text_with_quotes_stays_valid_json(http_app, gateway):
    _, handler = gateway
    with http_app.test_request_context():
        sms.backend().send("13800138000", 'say "hi"\nand \\ bye')
    assert handler.received[0]["body"]["msg"] == 'say "hi"\nand \\ bye'


def test_gateway_failure_is_a_clear_message(http_app, gateway, portal):
    _, handler = gateway
    handler.status = 500
    response = portal.request_code("13800138000")
    assert response.status_code == 400
    assert "短信暂时无法发送" in response.get_data(as_text=True)


def test_unreachable_gateway_is_a_clear_message(http_app, portal):
    http_app.config["SMS_HTTP_URL"] = "http://127.0.0.1:9/unreachable"
    response = portal.request_code("13800138000")
    assert response.status_code == 400 and "短信暂时无法发送" in response.get_data(as_text=True)


def test_sms_switched_off_sends_no_notice(app, outbox):
    app.config["SMS_ENABLED"] = False
    try:
        with app.test_request_context():
            sms.send_text("13800138000", "notice")
    finally:
        app.config["SMS_ENABLED"] = True
    assert outbox.messages() == []


def test_captcha_test_mode_refused_outside_console(tmp_path):
    from talentadmin import create_app

    with pytest.raises(RuntimeError, match="TALENTADMIN_SMS_BACKEND=console"):
        create_app({"INSTANCE_PATH": str(tmp_path), "CAPTCHA_TEST_MODE": True,
                    "SMS_BACKEND": "http", "SMS_HTTP_URL": "http://127.0.0.1:9/"})


def test_console_log_never_holds_the_code(portal, caplog, outbox):
    import logging

    with caplog.at_level(logging.INFO, logger="talentadmin.core.sms"):
        portal.request_code("13800138000")
    code = outbox.last_code("13800138000")
    assert caplog.records and all(code not in r.getMessage() for r in caplog.records)
    assert all("13800138000" not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("answer, refused", [
    (b"", False),
    (b"OK", False),
    (b'{"code": 0, "msg": "ok"}', False),
    (b'{"code": "200"}', False),
    (b'{"status": "success", "id": "a1"}', False),
    (b'{"success": true}', False),
    (b"[1, 2]", False),
    (b"\xff\xfe", False),
    (b'{"code": 1024, "msg": "sign not approved"}', True),
    (b'{"status": "FAIL"}', True),
    (b'{"error": "quota exceeded"}', True),
    (b'{"errors": ["bad number"]}', True),
    (b'{"success": false}', True),
    (b'{"ok": false}', True),
])
def test_a_2xx_answer_whose_body_reports_an_error_is_a_refusal(answer, refused):
    assert (sms.refusal(answer) is not None) is refused


def test_a_code_refused_in_a_200_body_is_a_clear_message(http_app, gateway, portal,
                                                         monkeypatch):
    _, handler = gateway

    def refuse(self):
        length = int(self.headers["Content-Length"])
        handler.received.append(json.loads(self.rfile.read(length)))
        data = b'{"code": 1024, "msg": "sign not approved"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    monkeypatch.setattr(handler, "do_POST", refuse)
    response = portal.request_code("13800138000")
    assert len(handler.received) == 1
    assert response.status_code == 400 and "短信暂时无法发送" in response.get_data(as_text=True)


def test_a_gateway_error_echoing_a_mobile_or_an_id_number_is_masked():
    """The error text is logged and listed in the back office: no full number in it."""
    from talentadmin.core.sms import SmsError

    error = SmsError("手机号13800138000格式错误; id 11010519491231002X; code 4001")
    assert str(error) == "手机号138****8000格式错误; id ***; code 4001"
