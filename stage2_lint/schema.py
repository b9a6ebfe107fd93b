"""The Stage-2 AB profile schema: every known key, its type and its default.

This is the one source of known keys. The linter's unknown-key (S2L060) and value-type
(S2L040) rules walk a file against it, and the runtime loader builds its typed config from
the same classes, so the commit-time and training-time views never disagree.

A field is a ``knob`` (a value with a check) or a ``section`` (a nested class). A section
marked ``open`` accepts any keys (free-form kwargs such as ``lr_scheduler_kwargs``).
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import attrs

Check = Callable[[Any], Optional[str]]  # returns what is wrong, or None

_FLOATISH = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


# -- value checks: each returns None when the value is fine, else a phrase for the message.

def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"{type(value).__name__} {value!r}"


def integer(minimum: Optional[int] = None) -> Check:
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected an integer{_bound(minimum)}, got {_describe(value)}"
        if minimum is not None and value < minimum:
            return f"expected an integer{_bound(minimum)}, got {value}"
        return None
    return check


def number(minimum: Optional[float] = None, maximum: Optional[float] = None) -> Check:
    def check(value):
        if isinstance(value, str) and _FLOATISH.match(value.strip()):
            return (f"expected a number, got the string {value!r}: YAML 1.1 reads a float only with a dot "
                    f"in the mantissa; write {_with_dot(value)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"expected a number, got {_describe(value)}"
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            return f"expected a number in [{minimum}, {maximum}], got {value}"
        return None
    return check


def boolean() -> Check:
    def check(value):
        return None if isinstance(value, bool) else f"expected true or false, got {_describe(value)}"
    return check


def text() -> Check:
    def check(value):
        if isinstance(value, bool):
            return f"expected a string, got {_describe(value)} (YAML 1.1 reads unquoted yes/no/on/off as booleans; quote it)"
        return None if isinstance(value, str) else f"expected a string, got {_describe(value)}"
    return check


def choice(*options: str) -> Check:
    def check(value):
        if isinstance(value, bool):
            spelled = "no" if value is False and "no" in options else str(value).lower()
            return (f"expected one of {', '.join(options)}, got {_describe(value)}: YAML 1.1 reads unquoted "
                    f"yes/no/on/off as booleans; quote it: \"{spelled}\"")
        if value not in options:
            return f"expected one of {', '.join(options)}, got {_describe(value)}"
        return None
    return check


def optional(inner: Check) -> Check:
    def check(value):
        return None if value is None else inner(value)
    return check


def list_of(inner: Check) -> Check:
    def check(value):
        if not isinstance(value, list):
            return f"expected a list, got {_describe(value)}"
        for index, item in enumerate(value):
            problem = inner(item)
            if problem:
                return f"item {index}: {problem}"
        return None
    return check


def anything() -> Check:
    return lambda value: None


def _bound(minimum) -> str:
    return "" if minimum is None else f" >= {minimum}"


def _with_dot(raw: str) -> str:
    mantissa, sep, exponent = raw.strip().partition("e" if "e" in raw else "E")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + (sep + exponent if sep else "")


# -- field helpers

def knob(check: Check, default: Any = None):
    return attrs.field(default=default, metadata={"check": check})


def section(cls, open_keys: bool = False):
    return attrs.field(factory=cls, metadata={"section": cls, "open": open_keys})


def items(cls):
    """A list of mappings, each checked against ``cls`` (e.g. rollout servers)."""
    return attrs.field(factory=list, metadata={"items": cls})


def free_form():
    return attrs.field(factory=dict, metadata={"open": True})


# -- the schema. Defaults are what the trainer assumes when a key is unset.

@attrs.frozen
class Model:
    model: Optional[str] = knob(optional(text()))
    torch_dtype: str = knob(choice("bfloat16", "float16", "float32", "auto"), "bfloat16")
    attn_impl: Optional[str] = knob(optional(text()))


@attrs.frozen
class Template:
    template: Optional[str] = knob(optional(text()))
    truncation_strategy: str = knob(choice("raise", "right", "left", "delete"), "raise")
    max_pixels: Optional[int] = knob(optional(integer(1)))
    max_length: Optional[int] = knob(optional(integer(1)))


@attrs.frozen
class Tuner:
    train_type: str = knob(choice("lora", "full"), "lora")
    use_swift_lora: bool = knob(boolean(), False)
    use_dora: bool = knob(boolean(), False)
    freeze_llm: bool = knob(boolean(), False)
    freeze_vit: bool = knob(boolean(), False)
    freeze_aligner: bool = knob(boolean(), False)
    target_modules: list = knob(list_of(text()), attrs.Factory(list))
    target_regex: Optional[str] = knob(optional(text()))
    modules_to_save: list = knob(list_of(text()), attrs.Factory(list))
    lora_rank: int = knob(integer(1), 8)
    lora_alpha: int = knob(integer(1), 32)
    lora_dropout: float = knob(number(0, 1), 0.0)
    lora_bias: str = knob(choice("none", "all", "lora_only"), "none")


@attrs.frozen
class DeepSpeed:
    enabled: bool = knob(boolean(), False)
    config: Optional[str] = knob(optional(text()))


_STRATEGY = choice("no", "steps", "epoch")


@attrs.frozen
class Training:
    output_dir: Optional[str] = knob(optional(text()))
    logging_dir: Optional[str] = knob(optional(text()))
    run_name: Optional[str] = knob(optional(text()))
    artifact_subdir: Optional[str] = knob(optional(text()))
    seed: int = knob(integer(0), 17)
    num_train_epochs: float = knob(number(0), 1)
    max_steps: int = knob(integer(-1), -1)
    per_device_train_batch_size: int = knob(integer(1), 1)
    per_device_eval_batch_size: int = knob(integer(1), 1)
    effective_batch_size: Optional[int] = knob(optional(integer(1)))
    gradient_accumulation_steps: Optional[int] = knob(optional(integer(1)))
    dataloader_drop_last: bool = knob(boolean(), False)
    gradient_checkpointing: bool = knob(boolean(), True)
    bf16: bool = knob(boolean(), True)
    optimizer: Optional[str] = knob(optional(text()))
    learning_rate: float = knob(number(0), 1e-5)
    vit_lr: Optional[float] = knob(optional(number(0)))
    aligner_lr: Optional[float] = knob(optional(number(0)))
    weight_decay: float = knob(number(0), 0.0)
    warmup_ratio: float = knob(number(0, 1), 0.0)
    max_grad_norm: float = knob(number(0), 1.0)
    lr_scheduler_type: Optional[str] = knob(optional(text()))
    lr_scheduler_kwargs: dict = free_form()
    report_to: list = knob(list_of(text()), attrs.Factory(list))
    add_version: bool = knob(boolean(), False)
    packing: bool = knob(boolean(), False)
    packing_buffer: Optional[int] = knob(optional(integer(1)))
    packing_min_fill_ratio: Optional[float] = knob(optional(number(0, 1)))
    packing_drop_last: bool = knob(boolean(), False)
    eval_packing: bool = knob(boolean(), False)
    do_eval: bool = knob(boolean(), True)
    eval_strategy: str = knob(_STRATEGY, "steps")
    eval_steps: Optional[int] = knob(optional(integer(1)))
    save_strategy: str = knob(choice("no", "steps", "epoch", "best"), "steps")
    save_steps: Optional[int] = knob(optional(integer(1)))
    save_delay_steps: int = knob(integer(0), 0)
    save_total_limit: Optional[int] = knob(optional(integer(1)))
    save_last_epoch: bool = knob(boolean(), False)
    save_only_model: bool = knob(boolean(), False)
    save_safetensors: bool = knob(boolean(), True)
    metric_for_best_model: Optional[str] = knob(optional(text()))
    greater_is_better: Optional[bool] = knob(optional(boolean()))
    logging_steps: int = knob(integer(1), 10)
    logging_first_step: bool = knob(boolean(), False)
    resume_from_checkpoint: Optional[str] = knob(optional(text()))


@attrs.frozen
class Data:
    dataset: list = knob(list_of(text()), attrs.Factory(list))
    val_dataset: list = knob(list_of(text()), attrs.Factory(list))
    dataset_num_proc: int = knob(integer(1), 1)
    dataloader_num_workers: int = knob(integer(0), 0)
    dataloader_pin_memory: bool = knob(boolean(), True)
    dataloader_prefetch_factor: Optional[int] = knob(optional(integer(1)))
    dataloader_persistent_workers: bool = knob(boolean(), False)


@attrs.frozen
class CoordTokens:
    enabled: bool = knob(boolean(), False)
    skip_bbox_norm: bool = knob(boolean(), False)


@attrs.frozen
class Toggle:
    enabled: bool = knob(boolean(), False)


@attrs.frozen
class Custom:
    trainer_variant: Optional[str] = knob(optional(text()))
    json_format: Optional[str] = knob(optional(text()))
    emit_norm: Optional[str] = knob(optional(text()))
    train_jsonl: Optional[str] = knob(optional(text()))
    val_jsonl: Optional[str] = knob(optional(text()))
    dump_conversation_path: Optional[str] = knob(optional(text()))
    train_sample_limit: Optional[int] = knob(optional(integer(1)))
    val_sample_limit: Optional[int] = knob(optional(integer(1)))
    coord_tokens: CoordTokens = section(CoordTokens)
    coord_soft_ce_w1: Toggle = section(Toggle)
    # An untyped escape hatch: S2L030 and S2L031 police it, S2L060 does not.
    extra: dict = free_form()


@attrs.frozen
class Debug:
    enabled: bool = knob(boolean(), False)
    output_dir: Optional[str] = knob(optional(text()))
    train_sample_limit: Optional[int] = knob(optional(integer(1)))
    val_sample_limit: Optional[int] = knob(optional(integer(1)))


@attrs.frozen
class Schedule:
    b_ratio: float = knob(number(0, 1), 0.0)


@attrs.frozen
class SemanticDescGate:
    enabled: Optional[bool] = knob(optional(boolean()))
    revision: Optional[str] = knob(optional(text()))


@attrs.frozen
class ChannelB:
    desc_ce_weight_matched: Optional[float] = knob(optional(number(0)))
    semantic_desc_gate: SemanticDescGate = section(SemanticDescGate)


@attrs.frozen
class Stage2AB:
    schedule: Schedule = section(Schedule)
    n_softctx_iter: int = knob(integer(1), 2)
    bbox_smoothl1_weight: Optional[float] = knob(optional(number(0)))
    channel_b: ChannelB = section(ChannelB)


@attrs.frozen
class Offload:
    enabled: bool = knob(boolean(), False)
    offload_model: bool = knob(boolean(), False)
    offload_optimizer: bool = knob(boolean(), False)


@attrs.frozen
class Server:
    base_url: str = knob(text(), "")
    group_port: Optional[int] = knob(optional(integer(1)))


@attrs.frozen
class DebugDump:
    enabled: bool = knob(boolean(), False)
    every_steps: Optional[int] = knob(optional(integer(1)))
    dump_first_step: bool = knob(boolean(), False)
    max_events: Optional[int] = knob(optional(integer(0)))
    max_samples: Optional[int] = knob(optional(integer(0)))
    max_chars: int = knob(integer(0), 0)


@attrs.frozen
class VllmServer:
    timeout_s: Optional[float] = knob(optional(number(0)), 240.0)
    infer_timeout_s: Optional[float] = knob(optional(number(0)))
    servers: list = items(Server)
    debug_dump: DebugDump = section(DebugDump)


@attrs.frozen
class VllmSync:
    mode: str = knob(choice("full", "adapter", "auto"), "full")
    fallback_to_full: bool = knob(boolean(), True)


@attrs.frozen
class Vllm:
    mode: str = knob(choice("colocate", "server"), "colocate")
    tensor_parallel_size: int = knob(integer(1), 1)
    gpu_memory_utilization: float = knob(number(0, 1), 0.9)
    max_model_len: Optional[int] = knob(optional(integer(1)))
    enable_lora: bool = knob(boolean(), False)
    enable_prefix_caching: bool = knob(boolean(), True)
    sleep_level: int = knob(integer(0), 0)
    server: VllmServer = section(VllmServer)
    sync: VllmSync = section(VllmSync)


@attrs.frozen
class Decoding:
    temperature: float = knob(number(0), 0.0)
    top_p: float = knob(number(0, 1), 1.0)
    top_k: int = knob(integer(-1), -1)


@attrs.frozen
class RepeatTerminate:
    enabled: bool = knob(boolean(), False)
    min_new_tokens: int = knob(integer(0), 0)
    max_consecutive_token_repeats: Optional[int] = knob(optional(integer(1)))
    ngram_size: Optional[int] = knob(optional(integer(1)))
    ngram_repeats: Optional[int] = knob(optional(integer(1)))
    max_object_keys: Optional[int] = knob(optional(integer(1)))


@attrs.frozen
class MonitorDump:
    enabled: bool = knob(boolean(), False)
    every_steps: Optional[int] = knob(optional(integer(1)))
    max_events: Optional[int] = knob(optional(integer(0)))
    max_samples: Optional[int] = knob(optional(integer(0)))
    max_text_chars: int = knob(integer(0), 0)


@attrs.frozen
class RolloutMatching:
    rollout_backend: str = knob(choice("vllm", "hf"), "vllm")
    # The one rollout decode/eval microbatch knob; per_device_eval_batch_size never sets it.
    decode_batch_size: int = knob(integer(1), 1)
    decode_mode: str = knob(choice("greedy"), "greedy")
    max_new_tokens: Optional[int] = knob(optional(integer(1)))
    repetition_penalty: float = knob(number(0), 1.0)
    offload: Offload = section(Offload)
    vllm: Vllm = section(Vllm)
    decoding: Decoding = section(Decoding)
    repeat_terminate: RepeatTerminate = section(RepeatTerminate)
    monitor_dump: MonitorDump = section(MonitorDump)
    candidate_top_k: Optional[int] = knob(optional(integer(1)))
    maskiou_gate: Optional[float] = knob(optional(number(0, 1)))
    maskiou_resolution: Optional[int] = knob(optional(integer(1)))
    fp_cost: Optional[float] = knob(optional(number(0)))
    fn_cost: Optional[float] = knob(optional(number(0)))
    ot_cost: Optional[str] = knob(optional(choice("l1", "l2")))
    ot_epsilon: Optional[float] = knob(optional(number(0)))
    ot_iters: Optional[int] = knob(optional(integer(1)))


@attrs.frozen
class Profile:
    """A whole resolved training profile."""

    global_max_length: Optional[int] = knob(optional(integer(1)))
    model: Model = section(Model)
    template: Template = section(Template)
    tuner: Tuner = section(Tuner)
    deepspeed: DeepSpeed = section(DeepSpeed)
    training: Training = section(Training)
    data: Data = section(Data)
    custom: Custom = section(Custom)
    debug: Debug = section(Debug)
    stage2_ab: Stage2AB = section(Stage2AB)
    rollout_matching: RolloutMatching = section(RolloutMatching)
    rlhf: dict = free_form()


# -- walking a mapping against the schema

@attrs.frozen
class Finding:
    kind: str  # "unknown" or "type"
    keys: Tuple[str, ...]
    message: str


def known_keys(cls) -> Tuple[str, ...]:
    return tuple(field.name for field in attrs.fields(cls))


def walk(tree: dict, cls=Profile, prefix: Tuple[str, ...] = ()) -> Iterator[Finding]:
    """Every unknown key and every ill-typed value in ``tree`` (the ``extends`` key aside)."""
    fields: Dict[str, attrs.Attribute] = attrs.fields_dict(cls)
    for key, value in tree.items():
        keys = prefix + (key,)
        if not prefix and key == "extends":
            continue
        field = fields.get(key) if isinstance(key, str) else None
        if field is None:
            yield Finding("unknown", keys, _unknown_message(keys, cls))
            continue
        yield from _walk_field(field, value, keys)


def _walk_field(field: attrs.Attribute, value, keys) -> Iterator[Finding]:
    meta = field.metadata
    if "check" in meta:
        problem = meta["check"](value)
        if problem:
            yield Finding("type", keys, problem)
    elif meta.get("section") is not None or meta.get("open"):
        if value is None:
            return  # an empty section, as `training:` with nothing under it
        if not isinstance(value, dict):
            yield Finding("type", keys, f"expected a mapping of {keys[-1]} settings, got {_describe(value)}")
        elif meta.get("section") is not None:
            yield from walk(value, meta["section"], keys)
    elif "items" in meta:
        if not isinstance(value, list):
            yield Finding("type", keys, f"expected a list, got {_describe(value)}")
            return
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                yield Finding("type", keys + (str(index),), f"expected a mapping, got {_describe(item)}")
            else:
                yield from walk(item, meta["items"], keys + (str(index),))


def _unknown_message(keys: Tuple[str, ...], cls) -> str:
    import difflib

    dotted = ".".join(map(str, keys))
    close = difflib.get_close_matches(str(keys[-1]), known_keys(cls), n=1, cutoff=0.6)
    if close:
        suggestion = ".".join(map(str, keys[:-1] + (close[0],)))
        return f"unknown key {dotted}; did you mean {suggestion}?"
    return f"unknown key {dotted}; known keys here: {', '.join(known_keys(cls))}"


def structure(cls, tree: Optional[dict]):
    """Build the typed config ``cls`` from a mapping that :func:`walk` found clean."""
    values = {}
    for field in attrs.fields(cls):
        if tree is None or field.name not in tree:
            continue
        value, meta = tree[field.name], field.metadata
        if meta.get("section") is not None:
            value = structure(meta["section"], value)
        elif "items" in meta:
            value = tuple(structure(meta["items"], item) for item in value)
        values[field.name] = value
    return cls(**values)
