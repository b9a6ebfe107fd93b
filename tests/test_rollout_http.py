"""The trainer's rollout client against real HTTP servers on 127.0.0.1 that record every
decode call: decode_batch_size alone sizes rollout and rollout-eval calls."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from src.config.rollout import normalize_rollout
from src.rollout.client import RolloutServerError
from src.trainers import Stage2ABTrainer


class RecordingServer:
    """A rollout server double speaking the /infer/ protocol, recording each call's size."""

    def __init__(self, behaviour="ok"):
        self.calls = []
        self.behaviour = behaviour
        # "slow" answers only when the test ends (or after 10 s): a call that returns before
        # that was ended by the client's own timeout, with no clock read by the test
        self.released = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.calls.append(body)
                if outer.behaviour == "slow":
                    outer.released.wait(10)
                if outer.behaviour == "garbage":
                    payload = b'{"oops": true}'
                else:
                    payload = json.dumps([{"text": f"out:{r['prompt']}"} for r in body["infer_requests"]]).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):  # noqa: N802
                outer.calls.append({"health": self.path})
                if outer.behaviour == "slow":
                    outer.released.wait(10)
                self.send_response(200 if self.path == "/health/" else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def sizes(self):
        return [len(call["infer_requests"]) for call in self.calls]


def _trainer(urls, decode_batch_size=4, eval_batch=1, infer_timeout=None, timeout=240.0):
    config = {"training": {"per_device_eval_batch_size": eval_batch},
              "rollout_matching": {"decode_batch_size": decode_batch_size, "max_new_tokens": 64,
                                   "vllm": {"mode": "server", "server": {
                                       "infer_timeout_s": infer_timeout, "timeout_s": timeout,
                                       "servers": [{"base_url": url} for url in urls]}}}}
    return Stage2ABTrainer(rollout_matching_cfg=normalize_rollout(config), b_ratio=1.0, n_softctx_iter=2,
                           per_device_eval_batch_size=eval_batch)


def _requests(n):
    return [{"prompt": f"p{i}"} for i in range(n)]


@pytest.mark.parametrize("eval_batch", [1, 8])
def test_decode_calls_carry_at_most_decode_batch_size(eval_batch):
    with RecordingServer() as first, RecordingServer() as second:
        trainer = _trainer([first.url, second.url], decode_batch_size=4, eval_batch=eval_batch)
        outputs = trainer.step_rollouts(0, _requests(18))  # training rollout on a B step
        assert [o["text"] for o in outputs] == [f"out:p{i}" for i in range(18)]
        train_sizes = first.sizes + second.sizes
        assert sorted(train_sizes) == [2, 4, 4, 4, 4]
        assert first.sizes and second.sizes  # spread across both servers

        first.calls.clear()
        second.calls.clear()
        eval_batches = [_requests(eval_batch) for _ in range(25 // eval_batch + 1)]
        total = sum(len(batch) for batch in eval_batches)
        outputs = trainer.evaluate_rollouts(eval_batches)
        assert len(outputs) == total
        eval_sizes = first.sizes + second.sizes
        assert max(eval_sizes) <= 4
        assert eval_sizes.count(4) == total // 4  # every call is full but the last remainder
        assert sum(eval_sizes) == total
        for server in (first, second):
            for call in server.calls:
                assert call["request_config"]["max_tokens"] == 64


def test_channel_a_steps_send_nothing():
    with RecordingServer() as server:
        rollout = normalize_rollout({"rollout_matching": {"decode_batch_size": 4, "vllm": {"mode": "server",
                                     "server": {"servers": [{"base_url": server.url}]}}}})
        trainer = Stage2ABTrainer(rollout_matching_cfg=rollout, b_ratio=0.0, n_softctx_iter=2)
        assert trainer.step_rollouts(0, _requests(5)) == []
        assert server.calls == []


def test_a_down_server_is_named():
    with RecordingServer() as live:
        dead = "http://127.0.0.1:9"  # discard port: nothing listens
        trainer = _trainer([live.url, dead])
        with pytest.raises(RolloutServerError, match="rollout server http://127.0.0.1:9 is unreachable"):
            trainer.rollout(_requests(8))


def test_garbage_answers_are_named():
    with RecordingServer("garbage") as server:
        with pytest.raises(RolloutServerError, match=f"rollout server {server.url} answered garbage"):
            _trainer([server.url]).rollout(_requests(2))


def test_infer_timeout_applies():
    with RecordingServer("slow") as server:
        with pytest.raises(RolloutServerError, match="timed out"):  # the server would answer, but only later
            _trainer([server.url], infer_timeout=0.3).rollout(_requests(1))
        assert not server.released.is_set()


def test_health_check_names_the_server_and_honours_timeout_s():
    with RecordingServer() as live, RecordingServer("slow") as slow:
        _trainer([live.url]).client.check_servers()
        assert live.calls == [{"health": "/health/"}]
        with pytest.raises(RolloutServerError, match=f"rollout server {slow.url} is unreachable or timed out"):
            _trainer([live.url, slow.url], timeout=0.3).client.check_servers()
        assert not slow.released.is_set()
