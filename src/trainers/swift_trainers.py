"""The project's trainers as ms-swift trainers (imported only by a real run: needs torch).

ms-swift constructs the class ``framework.registered_trainer`` names, with its own arguments
plus the keyword-only ones the project injects. The rollout logic itself stays in
``rollout_matching`` and ``stage2_ab`` (plain Python, tested without torch); these classes
connect it to ms-swift's training loop:

- every evaluation also decodes the evaluation prompts through the rollout servers, in
  ``decode_batch_size``-sized calls, and reports ``eval_rollout/f1`` (token F1 of each
  rollout against the reference answer), the metric the profiles select checkpoints by;
- a Stage-2 AB step on channel B rolls out the step's prompts first (channel A does not);
  each step's channel is appended to ``<output_dir>/stage2_channels.jsonl``.

The channel-specific losses of the research code (soft-context iterations, rollout
matching) are not part of this reference codebase: both channels train on the batch's own
loss here.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional

from swift.trainers import Seq2SeqTrainer

from src.trainers.rollout_matching import RolloutMatchingTrainer
from src.trainers.stage2_ab import Stage2ABTrainer

IGNORED = -100  # label of a prompt token


class RolloutMatchingSwiftTrainer(Seq2SeqTrainer):
    rollout_class = RolloutMatchingTrainer

    def __init__(self, *args, rollout_matching_cfg, rollout_client=None, **kwargs):
        training_args = kwargs.get("args")
        self.rollouts = self.rollout_class(**self._rollout_kwargs(
            rollout_matching_cfg=rollout_matching_cfg, rollout_client=rollout_client,
            per_device_eval_batch_size=getattr(training_args, "per_device_eval_batch_size", 1)))
        super().__init__(*args, **kwargs)

    def _rollout_kwargs(self, **kwargs) -> dict:
        return kwargs

    # -- rollouts from ms-swift's encoded batches

    def _texts(self, input_ids, labels) -> List[Dict[str, str]]:
        """Each row's prompt (tokens without a label) and reference answer (labelled tokens)."""
        tokenizer = self.template.tokenizer
        rows = []
        for ids, marks in zip(input_ids.tolist(), labels.tolist()):
            prompt = [token for token, mark in zip(ids, marks) if mark == IGNORED and token != tokenizer.pad_token_id]
            answer = [token for token, mark in zip(ids, marks) if mark != IGNORED]
            rows.append({"prompt": tokenizer.decode(prompt), "answer": tokenizer.decode(answer)})
        return rows

    @staticmethod
    def _request(row: Dict[str, str]) -> dict:
        return {"messages": [{"role": "user", "content": row["prompt"]}]}

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval", **kwargs):
        metrics = super().evaluate(eval_dataset, ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix,
                                   **kwargs)
        rows = [row for batch in self.get_eval_dataloader(eval_dataset)
                for row in self._texts(batch["input_ids"], batch["labels"])]
        batches = [[self._request(row) for row in rows[start:start + self.args.per_device_eval_batch_size]]
                   for start in range(0, len(rows), self.args.per_device_eval_batch_size)]
        completions = self.rollouts.evaluate_rollouts(batches)
        scores = [token_f1(done["text"], row["answer"]) for done, row in zip(completions, rows)]
        name = f"{metric_key_prefix}_rollout/f1"
        metrics[name] = sum(scores) / len(scores) if scores else 0.0
        self.log({name: metrics[name]})
        return metrics


class Stage2ABSwiftTrainer(RolloutMatchingSwiftTrainer):
    rollout_class = Stage2ABTrainer

    def __init__(self, *args, b_ratio: float, n_softctx_iter: int, **kwargs):
        self._schedule = {"b_ratio": b_ratio, "n_softctx_iter": n_softctx_iter}
        super().__init__(*args, **kwargs)

    def _rollout_kwargs(self, **kwargs) -> dict:
        return {**kwargs, **self._schedule}

    def training_step(self, model, inputs, *args, **kwargs):
        step = self.state.global_step
        channel = self.rollouts.channel_for_step(step)
        sent: Optional[int] = None
        if channel == "B":
            requests = [self._request(row) for row in self._texts(inputs["input_ids"], inputs["labels"])]
            sent = len(self.rollouts.step_rollouts(step, requests))
        self._record(step, channel, sent)
        return super().training_step(model, inputs, *args, **kwargs)

    def _record(self, step: int, channel: str, rollouts: Optional[int]) -> None:
        if not self.is_world_process_zero():
            return
        os.makedirs(self.args.output_dir, exist_ok=True)
        with open(os.path.join(self.args.output_dir, "stage2_channels.jsonl"), "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": step, "channel": channel, "rollouts": rollouts}) + "\n")


def token_f1(candidate: str, reference: str) -> float:
    """Harmonic mean of token precision and recall (whitespace tokens, with repeats)."""
    from collections import Counter

    mine, theirs = Counter(candidate.split()), Counter(reference.split())
    common = sum((mine & theirs).values())
    if not common:
        return 0.0
    precision, recall = common / sum(mine.values()), common / sum(theirs.values())
    return 2 * precision * recall / (precision + recall)
