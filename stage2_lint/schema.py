"""The Stage-2 AB profile schema: every known key, its type and its default.

This is the one source of known keys. The linter's unknown-key (S2L060) and value-type
(S2L040) rules walk a file against it, and the runtime loader builds its typed config from
the same classes, so the commit-time and training-time views never disagree.

A field is a ``knob`` (a value with a check and a default), a ``section`` (a nested
class), ``items`` (a list of sections) or ``free_form`` (any keys, such as
``lr_scheduler_kwargs``). ``typed(cls)`` derives the frozen attrs class of a section.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

from stage2_lint.escape import dotted, shown

Check = Callable[[Any], Optional[str]]  # returns what is wrong, or None

_FLOATISH = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")


# -- value checks: each returns None when the value is fine, else a phrase for the message.

def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {shown(value)}"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"{type(value).__name__} {shown(value)}"


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
            return (f"expected a number, got the string {shown(value)}: YAML 1.1 reads a float only with a dot "
                    f"in the mantissa; write {_with_dot(value)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"expected a number, got {_describe(value)}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"expected a finite number, got {value}"
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
            return (f"expected a string, got {_describe(value)} "
                    f"(YAML 1.1 reads unquoted yes/no/on/off as booleans; quote it)")
        return None if isinstance(value, str) else f"expected a string, got {_describe(value)}"
    return check


_HTTP_URL = re.compile(r"^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})/?$")


def http_url() -> Check:
    """An ``http(s)://host:port`` base URL with a numeric port (what a rollout server is)."""
    def check(value):
        if not isinstance(value, str):
            return f"expected an http(s)://host:port URL, got {_describe(value)}"
        match = _HTTP_URL.match(value)
        if not match or not 0 < int(match.group(1)) < 65536:
            return f"expected an http(s)://host:port URL with a numeric port, got {_describe(value)}"
        return None
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


# -- declaring fields. Declarations are plain objects, cheap to import: the linter walks them
# on every commit, while attrs classes (for the typed runtime config) are derived on demand.

class Knob:
    __slots__ = ("check", "default")

    def __init__(self, check: Check, default: Any = None):
        self.check, self.default = check, default


class Sub:
    """A nested section (``open``: any keys allowed below it)."""

    __slots__ = ("section", "open")

    def __init__(self, section: Optional[type], open_keys: bool = False):
        self.section, self.open = section, open_keys


class Items:
    """A list of mappings, each checked against ``section`` (e.g. rollout servers)."""

    __slots__ = ("section",)

    def __init__(self, section: type):
        self.section = section


def knob(check: Check, default: Any = None) -> Knob:
    return Knob(check, default)


def section(cls) -> Sub:
    return Sub(cls)


def items(cls) -> Items:
    return Items(cls)


def free_form() -> Sub:
    return Sub(None, open_keys=True)


class Section:
    """A schema section: subclasses declare their keys as class attributes."""

    FIELDS: Dict[str, object] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.FIELDS = {name: value for name, value in vars(cls).items() if isinstance(value, (Knob, Sub, Items))}


# -- the schema. Defaults are what the trainer assumes when a key is unset.

class Model(Section):
    model: Optional[str] = knob(optional(text()))
    torch_dtype: str = knob(choice("bfloat16", "float16", "float32", "auto"), "bfloat16")
    attn_impl: Optional[str] = knob(optional(text()))


class Template(Section):
    template: Optional[str] = knob(optional(text()))
    truncation_strategy: str = knob(choice("raise", "right", "left", "delete"), "raise")
    max_pixels: Optional[int] = knob(optional(integer(1)))
    max_length: Optional[int] = knob(optional(integer(1)))


class Tuner(Section):
    train_type: str = knob(choice("lora", "full"), "lora")
    use_swift_lora: bool = knob(boolean(), False)
    use_dora: bool = knob(boolean(), False)
    freeze_llm: bool = knob(boolean(), False)
    freeze_vit: bool = knob(boolean(), False)
    freeze_aligner: bool = knob(boolean(), False)
    target_modules: list = knob(list_of(text()), ())
    target_regex: Optional[str] = knob(optional(text()))
    modules_to_save: list = knob(list_of(text()), ())
    lora_rank: int = knob(integer(1), 8)
    lora_alpha: int = knob(integer(1), 32)
    lora_dropout: float = knob(number(0, 1), 0.0)
    lora_bias: str = knob(choice("none", "all", "lora_only"), "none")


class DeepSpeed(Section):
    enabled: bool = knob(boolean(), False)
    config: Optional[str] = knob(optional(text()))


_STRATEGY = choice("no", "steps", "epoch")


class Training(Section):
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
    report_to: list = knob(list_of(text()), ())
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


class Data(Section):
    dataset: list = knob(list_of(text()), ())
    val_dataset: list = knob(list_of(text()), ())
    dataset_num_proc: int = knob(integer(1), 1)
    dataloader_num_workers: int = knob(integer(0), 0)
    dataloader_pin_memory: bool = knob(boolean(), True)
    dataloader_prefetch_factor: Optional[int] = knob(optional(integer(1)))
    dataloader_persistent_workers: bool = knob(boolean(), False)


class CoordTokens(Section):
    enabled: bool = knob(boolean(), False)
    skip_bbox_norm: bool = knob(boolean(), False)


class Toggle(Section):
    enabled: bool = knob(boolean(), False)


class Custom(Section):
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


class Debug(Section):
    enabled: bool = knob(boolean(), False)
    output_dir: Optional[str] = knob(optional(text()))
    train_sample_limit: Optional[int] = knob(optional(integer(1)))
    val_sample_limit: Optional[int] = knob(optional(integer(1)))


class Schedule(Section):
    b_ratio: float = knob(number(0, 1), 0.0)


class SemanticDescGate(Section):
    enabled: Optional[bool] = knob(optional(boolean()))
    revision: Optional[str] = knob(optional(text()))


class ChannelB(Section):
    desc_ce_weight_matched: Optional[float] = knob(optional(number(0)))
    semantic_desc_gate: SemanticDescGate = section(SemanticDescGate)


class Stage2AB(Section):
    schedule: Schedule = section(Schedule)
    n_softctx_iter: int = knob(integer(1), 2)
    bbox_smoothl1_weight: Optional[float] = knob(optional(number(0)))
    channel_b: ChannelB = section(ChannelB)


class Offload(Section):
    enabled: bool = knob(boolean(), False)
    offload_model: bool = knob(boolean(), False)
    offload_optimizer: bool = knob(boolean(), False)


class Server(Section):
    base_url: str = knob(http_url(), "")
    group_port: Optional[int] = knob(optional(integer(1)))


class DebugDump(Section):
    enabled: bool = knob(boolean(), False)
    every_steps: Optional[int] = knob(optional(integer(1)))
    dump_first_step: bool = knob(boolean(), False)
    max_events: Optional[int] = knob(optional(integer(0)))
    max_samples: Optional[int] = knob(optional(integer(0)))
    max_chars: int = knob(integer(0), 0)


class VllmServer(Section):
    timeout_s: Optional[float] = knob(optional(number(0)), 240.0)
    infer_timeout_s: Optional[float] = knob(optional(number(0)))
    servers: list = items(Server)
    debug_dump: DebugDump = section(DebugDump)


class VllmSync(Section):
    mode: str = knob(choice("full", "adapter", "auto"), "full")
    fallback_to_full: bool = knob(boolean(), True)


class Vllm(Section):
    mode: str = knob(choice("colocate", "server"), "colocate")
    tensor_parallel_size: int = knob(integer(1), 1)
    gpu_memory_utilization: float = knob(number(0, 1), 0.9)
    max_model_len: Optional[int] = knob(optional(integer(1)))
    enable_lora: bool = knob(boolean(), False)
    enable_prefix_caching: bool = knob(boolean(), True)
    sleep_level: int = knob(integer(0), 0)
    server: VllmServer = section(VllmServer)
    sync: VllmSync = section(VllmSync)


class Decoding(Section):
    temperature: float = knob(number(0), 0.0)
    top_p: float = knob(number(0, 1), 1.0)
    top_k: int = knob(integer(-1), -1)


class RepeatTerminate(Section):
    enabled: bool = knob(boolean(), False)
    min_new_tokens: int = knob(integer(0), 0)
    max_consecutive_token_repeats: Optional[int] = knob(optional(integer(1)))
    ngram_size: Optional[int] = knob(optional(integer(1)))
    ngram_repeats: Optional[int] = knob(optional(integer(1)))
    max_object_keys: Optional[int] = knob(optional(integer(1)))


class MonitorDump(Section):
    enabled: bool = knob(boolean(), False)
    every_steps: Optional[int] = knob(optional(integer(1)))
    max_events: Optional[int] = knob(optional(integer(0)))
    max_samples: Optional[int] = knob(optional(integer(0)))
    max_text_chars: int = knob(integer(0), 0)


class RolloutMatching(Section):
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


class Profile(Section):
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

class Finding:
    __slots__ = ("kind", "keys", "message")

    def __init__(self, kind: str, keys: Tuple[str, ...], message: str):
        self.kind, self.keys, self.message = kind, keys, message  # kind: "unknown" or "type"


def known_keys(cls) -> Tuple[str, ...]:
    return tuple(cls.FIELDS)


def walk(tree: dict, cls=None, prefix: Tuple[str, ...] = ()) -> Iterator[Finding]:
    """Every unknown key and every ill-typed value in ``tree`` (the ``extends`` key aside)."""
    cls = cls or Profile
    for key, value in tree.items():
        keys = prefix + (key,)
        if not prefix and key == "extends":
            continue
        field = cls.FIELDS.get(key) if isinstance(key, str) else None
        if field is None:
            yield Finding("unknown", keys, _unknown_message(keys, cls))
        else:
            yield from _walk_field(field, value, keys)


def _walk_field(field, value, keys) -> Iterator[Finding]:
    if isinstance(field, Knob):
        problem = field.check(value)
        if problem:
            yield Finding("type", keys, problem)
    elif isinstance(field, Sub):
        if value is None:
            return  # an empty section, as `training:` with nothing under it
        if not isinstance(value, dict):
            yield Finding("type", keys, f"expected a mapping of {keys[-1]} settings, got {_describe(value)}")
        elif field.section is not None:
            yield from walk(value, field.section, keys)
    elif not isinstance(value, list):
        yield Finding("type", keys, f"expected a list, got {_describe(value)}")
    else:
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                yield Finding("type", keys + (str(index),), f"expected a mapping, got {_describe(item)}")
            else:
                yield from walk(item, field.section, keys + (str(index),))


def _unknown_message(keys: Tuple[str, ...], cls) -> str:
    import difflib

    name = dotted(keys)
    close = difflib.get_close_matches(str(keys[-1]), known_keys(cls), n=1, cutoff=0.6)
    if close:
        return f"unknown key {name}; did you mean {dotted(keys[:-1] + (close[0],))}?"
    return f"unknown key {name}; known keys here: {', '.join(known_keys(cls))}"


# -- the typed runtime view: frozen attrs classes derived from the declarations

_TYPED: Dict[type, type] = {}


def typed(cls) -> type:
    """The frozen attrs class for section ``cls`` (built once, on first use)."""
    if cls not in _TYPED:
        import attrs

        fields = {}
        for name, field in cls.FIELDS.items():
            if isinstance(field, Knob):
                default = field.default
                fields[name] = attrs.field(default=tuple(default) if isinstance(default, (list, tuple)) else default)
            elif isinstance(field, Sub) and field.section is not None:
                fields[name] = attrs.field(factory=typed(field.section))
            else:
                fields[name] = attrs.field(factory=tuple if isinstance(field, Items) else dict)
        _TYPED[cls] = attrs.make_class(cls.__name__, fields, frozen=True)
    return _TYPED[cls]


def structure(cls, tree: Optional[dict]):
    """Build the typed config for ``cls`` from a mapping that :func:`walk` found clean."""
    values = {}
    for name, field in cls.FIELDS.items():
        if tree is None or name not in tree:
            continue
        value = tree[name]
        if isinstance(field, Sub) and field.section is not None:
            value = structure(field.section, value)
        elif isinstance(field, Items):
            value = tuple(structure(field.section, item) for item in value)
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return typed(cls)(**values)
