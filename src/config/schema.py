"""The typed training config: the single source of truth for every knob a profile may set.

Frozen attrs classes, one per section. A field's annotation is its type, its default is what
the trainer assumes when the key is unset, and its metadata adds bounds, a pattern, a
one-line description or ``deprecated``. ``stage2-lint schema export --contract stage2_ab``
turns these classes into ``schemas/stage2_ab.schema.json``, which the linter, the runtime
guard and editors read; ``stage2-lint schema check`` (CI and the pre-commit hook) fails when
the committed file is stale. Adding a knob is one line here plus an export.
"""
from typing import Any, Dict, Literal, Optional, Tuple

import attrs

# An http(s)://host:port base URL whose port is a number from 1 to 65535.
HTTP_URL = (r"^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):"
            r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])/?$")


REQUIRED = attrs.NOTHING  # a knob with no default: an entry of a list must set it
PORT = {"minimum": 1, "maximum": 65535}
A_DAY = 86_400  # seconds: the longest timeout a launcher or client waits


def knob(default, *, minimum=None, maximum=None, url=False, doc=None, deprecated=False):
    """A setting with a default (or ``REQUIRED``); bounds, URL shape and docs travel to the
    exported schema."""
    metadata = {key: value for key, value in (("minimum", minimum), ("maximum", maximum), ("description", doc))
                if value is not None}
    if url:
        metadata.update({"pattern": HTTP_URL, "x-expected": "an http(s)://host:port URL with a numeric port"})
    if deprecated:
        metadata["deprecated"] = True
    return attrs.field(default=default, metadata=metadata)


def section(cls, *, open_keys=False, doc=None):
    """A nested section; ``open_keys`` for one whose owner accepts keys not declared here."""
    metadata = {"open": open_keys, **({"description": doc} if doc else {})}
    return attrs.field(factory=cls, metadata=metadata)


def items():
    """A list of sections (e.g. rollout servers)."""
    return attrs.field(factory=tuple)


def free_form(doc=None, residual=False):
    """A mapping of any keys (e.g. scheduler kwargs); ``residual``: an untyped bag whose keys
    deserve a typed home (the linter warns about each, S2L031)."""
    metadata = {"description": doc} if doc else {}
    if residual:
        metadata["x-residual"] = True
    return attrs.field(factory=dict, metadata=metadata)


@attrs.frozen
class Model:
    model: Optional[str] = knob(None)
    model_type: Optional[str] = knob(None, doc="ms-swift's model type (a local checkpoint it cannot identify)")
    torch_dtype: Literal["bfloat16", "float16", "float32", "auto"] = knob("bfloat16")
    attn_impl: Optional[str] = knob(None)
    check_model: Optional[bool] = knob(None, doc="ms-swift's check of the model against its hub (false offline)")


@attrs.frozen
class Template:
    template: Optional[str] = knob(None)
    truncation_strategy: Literal["raise", "right", "left", "delete"] = knob("raise")
    max_pixels: Optional[int] = knob(None, minimum=1)
    max_length: Optional[int] = knob(None, minimum=1)


@attrs.frozen
class Tuner:
    train_type: Literal["lora", "full"] = knob("lora")
    use_swift_lora: bool = knob(False)
    use_dora: bool = knob(False)
    freeze_llm: bool = knob(False)
    freeze_vit: bool = knob(False)
    freeze_aligner: bool = knob(False)
    target_modules: Tuple[str, ...] = knob(())
    target_regex: Optional[str] = knob(None)
    modules_to_save: Tuple[str, ...] = knob(())
    lora_rank: int = knob(8, minimum=1)
    lora_alpha: int = knob(32, minimum=1)
    lora_dropout: float = knob(0.0, minimum=0, maximum=1)
    lora_bias: Literal["none", "all", "lora_only"] = knob("none")


@attrs.frozen
class DeepSpeed:
    enabled: bool = knob(False)
    config: Optional[str] = knob(None)


@attrs.frozen
class Training:
    output_dir: Optional[str] = knob(None)
    logging_dir: Optional[str] = knob(None)
    run_name: Optional[str] = knob(None)
    artifact_subdir: Optional[str] = knob(None)
    seed: int = knob(17, minimum=0)
    num_train_epochs: float = knob(1, minimum=0)
    max_steps: int = knob(-1, minimum=-1)
    per_device_train_batch_size: int = knob(1, minimum=1)
    per_device_eval_batch_size: int = knob(1, minimum=1)
    effective_batch_size: Optional[int] = knob(None, minimum=1)
    gradient_accumulation_steps: Optional[int] = knob(None, minimum=1)
    dataloader_drop_last: bool = knob(False)
    gradient_checkpointing: bool = knob(True)
    bf16: bool = knob(True)
    optimizer: Optional[str] = knob(None)
    learning_rate: float = knob(1e-5, minimum=0)
    vit_lr: Optional[float] = knob(None, minimum=0)
    aligner_lr: Optional[float] = knob(None, minimum=0)
    weight_decay: float = knob(0.0, minimum=0)
    warmup_ratio: float = knob(0.0, minimum=0, maximum=1)
    max_grad_norm: float = knob(1.0, minimum=0)
    lr_scheduler_type: Optional[str] = knob(None)
    lr_scheduler_kwargs: Dict[str, Any] = free_form()
    report_to: Tuple[str, ...] = knob(())
    add_version: bool = knob(False)
    packing: bool = knob(False)
    packing_buffer: Optional[int] = knob(None, minimum=1)
    packing_min_fill_ratio: Optional[float] = knob(None, minimum=0, maximum=1)
    packing_drop_last: bool = knob(False)
    eval_packing: bool = knob(False)
    do_eval: bool = knob(True)
    eval_strategy: Literal["no", "steps", "epoch"] = knob("steps")
    eval_steps: Optional[int] = knob(None, minimum=1)
    save_strategy: Literal["no", "steps", "epoch", "best"] = knob("steps")
    save_steps: Optional[int] = knob(None, minimum=1)
    save_delay_steps: int = knob(0, minimum=0)
    save_total_limit: Optional[int] = knob(None, minimum=1)
    save_last_epoch: bool = knob(False)
    save_only_model: bool = knob(False)
    save_safetensors: bool = knob(True)
    metric_for_best_model: Optional[str] = knob(None)
    greater_is_better: Optional[bool] = knob(None)
    logging_steps: int = knob(10, minimum=1)
    logging_first_step: bool = knob(False)
    resume_from_checkpoint: Optional[str] = knob(None)


@attrs.frozen
class Data:
    dataset: Tuple[str, ...] = knob(())
    val_dataset: Tuple[str, ...] = knob(())
    dataset_num_proc: int = knob(1, minimum=1)
    dataloader_num_workers: int = knob(0, minimum=0)
    dataloader_pin_memory: bool = knob(True)
    dataloader_prefetch_factor: Optional[int] = knob(None, minimum=1)
    dataloader_persistent_workers: bool = knob(False)


@attrs.frozen
class CoordTokens:
    enabled: bool = knob(False)
    skip_bbox_norm: bool = knob(False)


@attrs.frozen
class Toggle:
    enabled: bool = knob(False)


@attrs.frozen
class Custom:
    trainer_variant: Optional[str] = knob(None)
    json_format: Optional[str] = knob(None)
    emit_norm: Optional[str] = knob(None)
    train_jsonl: Optional[str] = knob(None)
    val_jsonl: Optional[str] = knob(None)
    dump_conversation_path: Optional[str] = knob(None)
    train_sample_limit: Optional[int] = knob(None, minimum=1)
    val_sample_limit: Optional[int] = knob(None, minimum=1)
    coord_tokens: CoordTokens = section(CoordTokens)
    coord_soft_ce_w1: Toggle = section(Toggle)
    # An untyped escape hatch: S2L030 and S2L031 police it, S2L060 does not.
    extra: Dict[str, Any] = free_form(doc="untyped knobs (a warning: give them a typed home)", residual=True)


@attrs.frozen
class Debug:
    enabled: bool = knob(False)
    output_dir: Optional[str] = knob(None)
    train_sample_limit: Optional[int] = knob(None, minimum=1)
    val_sample_limit: Optional[int] = knob(None, minimum=1)


@attrs.frozen
class Schedule:
    b_ratio: float = knob(0.0, minimum=0, maximum=1)


@attrs.frozen
class SemanticDescGate:
    enabled: Optional[bool] = knob(None)
    revision: Optional[str] = knob(None)


@attrs.frozen
class ChannelB:
    desc_ce_weight_matched: Optional[float] = knob(None, minimum=0)
    semantic_desc_gate: SemanticDescGate = section(SemanticDescGate)


@attrs.frozen
class Stage2AB:
    schedule: Schedule = section(Schedule)
    n_softctx_iter: int = knob(2, minimum=1)
    bbox_smoothl1_weight: Optional[float] = knob(None, minimum=0)
    channel_b: ChannelB = section(ChannelB)


@attrs.frozen
class Offload:
    enabled: bool = knob(False)
    offload_model: bool = knob(False)
    offload_optimizer: bool = knob(False)


@attrs.frozen
class Server:
    base_url: str = knob(REQUIRED, url=True, doc="the rollout server, http(s)://host:port")
    group_port: Optional[int] = knob(None, **PORT)


@attrs.frozen
class DebugDump:
    enabled: bool = knob(False)
    every_steps: Optional[int] = knob(None, minimum=1)
    dump_first_step: bool = knob(False)
    max_events: Optional[int] = knob(None, minimum=0)
    max_samples: Optional[int] = knob(None, minimum=0)
    max_chars: int = knob(0, minimum=0)


@attrs.frozen
class VllmServer:
    timeout_s: Optional[float] = knob(240.0, minimum=0, maximum=A_DAY)
    infer_timeout_s: Optional[float] = knob(None, minimum=0, maximum=A_DAY)
    servers: Tuple[Server, ...] = items()
    debug_dump: DebugDump = section(DebugDump)


@attrs.frozen
class VllmSync:
    mode: Literal["full", "adapter", "auto"] = knob("full")
    fallback_to_full: bool = knob(True)


@attrs.frozen
class Vllm:
    mode: Literal["colocate", "server"] = knob("colocate")
    tensor_parallel_size: int = knob(1, minimum=1)
    gpu_memory_utilization: float = knob(0.9, minimum=0, maximum=1)
    max_model_len: Optional[int] = knob(None, minimum=1)
    enable_lora: bool = knob(False)
    enable_prefix_caching: bool = knob(True)
    sleep_level: int = knob(0, minimum=0)
    server: VllmServer = section(VllmServer)
    sync: VllmSync = section(VllmSync)


@attrs.frozen
class Decoding:
    temperature: float = knob(0.0, minimum=0)
    top_p: float = knob(1.0, minimum=0, maximum=1)
    top_k: int = knob(-1, minimum=-1)


@attrs.frozen
class RepeatTerminate:
    enabled: bool = knob(False)
    min_new_tokens: int = knob(0, minimum=0)
    max_consecutive_token_repeats: Optional[int] = knob(None, minimum=1)
    ngram_size: Optional[int] = knob(None, minimum=1)
    ngram_repeats: Optional[int] = knob(None, minimum=1)
    max_object_keys: Optional[int] = knob(None, minimum=1)


@attrs.frozen
class MonitorDump:
    enabled: bool = knob(False)
    every_steps: Optional[int] = knob(None, minimum=1)
    max_events: Optional[int] = knob(None, minimum=0)
    max_samples: Optional[int] = knob(None, minimum=0)
    max_text_chars: int = knob(0, minimum=0)


@attrs.frozen
class RolloutMatching:
    rollout_backend: Literal["vllm", "hf"] = knob("vllm")
    # The one rollout decode/eval microbatch knob; per_device_eval_batch_size never sets it.
    decode_batch_size: int = knob(1, minimum=1)
    decode_mode: Literal["greedy"] = knob("greedy")
    max_new_tokens: Optional[int] = knob(None, minimum=1)
    repetition_penalty: float = knob(1.0, minimum=0)
    offload: Offload = section(Offload)
    vllm: Vllm = section(Vllm)
    decoding: Decoding = section(Decoding)
    repeat_terminate: RepeatTerminate = section(RepeatTerminate)
    monitor_dump: MonitorDump = section(MonitorDump)
    candidate_top_k: Optional[int] = knob(None, minimum=1)
    maskiou_gate: Optional[float] = knob(None, minimum=0, maximum=1)
    maskiou_resolution: Optional[int] = knob(None, minimum=1)
    fp_cost: Optional[float] = knob(None, minimum=0)
    fn_cost: Optional[float] = knob(None, minimum=0)
    ot_cost: Optional[Literal["l1", "l2"]] = knob(None)
    ot_epsilon: Optional[float] = knob(None, minimum=0)
    ot_iters: Optional[int] = knob(None, minimum=1)


@attrs.frozen
class Profile:
    """A whole resolved training profile."""

    global_max_length: Optional[int] = knob(None, minimum=1)
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
    rlhf: Dict[str, Any] = free_form()


TrainingConfig = Profile


def to_training_config(resolved: dict) -> Profile:
    """The typed view of a resolved profile that the schema check found clean."""
    return structure(Profile, resolved)


def structure(cls, tree: Optional[dict]):
    """Build ``cls`` from a mapping: nested sections become their classes, lists tuples."""
    values = {}
    for field in attrs.fields(cls):
        if tree is None or field.name not in tree:
            continue
        values[field.name] = _structured(field.type, tree[field.name])
    return cls(**values)


def _structured(annotation, value):
    if attrs.has(annotation):
        return structure(annotation, value)
    args = getattr(annotation, "__args__", ())
    if isinstance(value, list):
        item = args[0] if args else None
        return tuple(structure(item, entry) if attrs.has(item) else entry for entry in value)
    return value


def untyped_keys(cls, tree: Optional[dict], prefix: str = "") -> Tuple[str, ...]:
    """Dotted keys of ``tree`` that the typed view of ``cls`` does not model (the keys of an
    open section, say): they stay in the resolved config, and the manifest lists them, so the
    typed view never drops one silently."""
    if not isinstance(tree, dict):
        return ()
    fields = {field.name: field for field in attrs.fields(cls)}
    found = []
    for key, value in tree.items():
        field = fields.get(key)
        if field is None:
            found.append(f"{prefix}{key}")
        elif attrs.has(field.type):
            found.extend(untyped_keys(field.type, value, f"{prefix}{key}."))
    return tuple(found)
