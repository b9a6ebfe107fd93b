"""The profile -> ms-swift translation: one explicit table, nothing dumped through.

Every key of the sections ms-swift owns (``model``, ``template``, ``tuner``, ``training``,
``data``) is in exactly one row kind below: passed under its own name, renamed for the
installed release, mapped to ms-swift's value, derived into another argument, or consumed
by this project (its trainer and callbacks) and never passed on. A key in no row is an
error when the profile is loaded (``unknown_keys``), so a new schema field cannot reach
ms-swift by accident or vanish silently.

Supported releases: ms-swift 3.x (``swift.llm.train.SwiftSft``, ``--train_type``,
``--save_safetensors``) and 4.x (``swift.pipelines.SwiftSft``, ``--tuner_type``,
``--safe_serialization``). Only 4.x is installed and exercised by this repository's tests.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Mapping, Optional, Tuple

SECTIONS = ("model", "template", "tuner", "training", "data")

# section.key -> the ms-swift argument of the same name.
PASSED = {
    "model": ("model", "model_type", "torch_dtype", "attn_impl", "check_model"),
    "template": ("template", "truncation_strategy", "max_pixels"),
    "tuner": ("use_swift_lora", "use_dora", "freeze_llm", "freeze_vit", "freeze_aligner", "target_modules",
              "target_regex", "modules_to_save", "lora_rank", "lora_alpha", "lora_dropout", "lora_bias"),
    "training": ("output_dir", "logging_dir", "run_name", "seed", "num_train_epochs", "max_steps",
                 "per_device_train_batch_size", "per_device_eval_batch_size", "dataloader_drop_last",
                 "gradient_checkpointing", "bf16", "optimizer", "learning_rate", "vit_lr", "aligner_lr",
                 "weight_decay", "warmup_ratio", "max_grad_norm", "lr_scheduler_type", "lr_scheduler_kwargs",
                 "report_to", "add_version", "packing", "do_eval", "eval_strategy", "eval_steps", "save_strategy",
                 "save_steps", "save_total_limit", "save_only_model", "metric_for_best_model", "greater_is_better",
                 "logging_steps", "logging_first_step", "resume_from_checkpoint"),
    "data": ("dataset_num_proc", "dataloader_num_workers", "dataloader_pin_memory", "dataloader_prefetch_factor",
             "dataloader_persistent_workers"),
}
# section.key -> ms-swift's name, by major release.
RENAMED = {
    ("tuner", "train_type"): {3: "train_type", 4: "tuner_type"},
    ("training", "save_safetensors"): {3: "save_safetensors", 4: "safe_serialization"},
}
# section.key -> {profile value: ms-swift value}
VALUES = {("template", "truncation_strategy"): {"raise": "delete"}}
# section.key -> {profile value the schema allows: why ms-swift cannot be given it}
REFUSED_VALUES = {("tuner", "lora_bias"): {"lora_only": "ms-swift's LoRA bias is none or all"}}
# Turned into other arguments by ``_derived`` below.
DERIVED = {("training", "effective_batch_size"), ("training", "gradient_accumulation_steps"),
           ("template", "max_length"), ("data", "dataset"), ("data", "val_dataset")}
# Read by this project, never passed on: what reads each one.
CONSUMED = {
    ("training", "artifact_subdir"): "the project's output layout",
    ("training", "packing_buffer"): "the project's packing callback",
    ("training", "packing_min_fill_ratio"): "the project's packing callback",
    ("training", "packing_drop_last"): "the project's packing callback",
    ("training", "eval_packing"): "the project's packing callback",
    ("training", "save_delay_steps"): "the project's checkpoint callback",
    ("training", "save_last_epoch"): "the project's checkpoint callback",
}


class TranslationError(ValueError):
    """A profile value ms-swift cannot be given; the message names the key."""


def unknown_keys(config: Mapping) -> List[str]:
    """Keys of the framework's sections that no row of the table covers."""
    known = {(section, key) for section, keys in PASSED.items() for key in keys}
    known |= set(RENAMED) | DERIVED | set(CONSUMED)
    return [f"{section}.{key}" for section in SECTIONS for key in (config.get(section) or {})
            if (section, key) not in known]


def swift_arguments(config: Mapping, release: int, repo_root: str, world_size: int = 1) -> List[str]:
    """``swift sft`` arguments for a resolved profile, for ms-swift major ``release``."""
    if release not in (3, 4):
        raise TranslationError(f"ms-swift {release}.x is not supported (3.x and 4.x are)")
    unknown = unknown_keys(config)
    if unknown:
        raise TranslationError(f"no ms-swift translation for {', '.join(unknown)} (src/trainers/swift_args.py)")
    arguments: Dict[str, object] = {}
    for section in SECTIONS:
        values = config.get(section) or {}
        for key, value in values.items():
            name = _name(section, key, release)
            why = REFUSED_VALUES.get((section, key), {}).get(value) if isinstance(value, str) else None
            if why:
                raise TranslationError(f"{section}.{key}: {value!r} has no ms-swift equivalent ({why})")
            if name is not None:
                mapped = VALUES.get((section, key), {})
                arguments[name] = mapped.get(value, value) if isinstance(value, str) else value
    arguments.update(_derived(config, repo_root, world_size))
    arguments["model"] = _local_or_hub(arguments.get("model"), repo_root)
    if not (config.get("deepspeed") or {}).get("enabled"):
        arguments.pop("deepspeed", None)
    else:
        arguments["deepspeed"] = config["deepspeed"].get("config")
    return _argv(arguments)


def _name(section: str, key: str, release: int) -> Optional[str]:
    if key in PASSED.get(section, ()):
        return key
    if (section, key) in RENAMED:
        return RENAMED[(section, key)][release]
    return None  # derived or consumed


def _derived(config: Mapping, repo_root: str, world_size: int) -> Dict[str, object]:
    training, template, data = (config.get(name) or {} for name in ("training", "template", "data"))
    custom = config.get("custom") or {}
    derived: Dict[str, object] = {}
    steps = _accumulation(training, world_size)
    if steps is not None:
        derived["gradient_accumulation_steps"] = steps
    lengths = {value for value in (config.get("global_max_length"), template.get("max_length")) if value is not None}
    if len(lengths) > 1:
        raise TranslationError(f"global_max_length and template.max_length disagree ({sorted(lengths)}); set one")
    if lengths:
        derived["max_length"] = lengths.pop()
    derived["dataset"] = _datasets(custom.get("train_jsonl"), custom.get("train_sample_limit"), data.get("dataset"),
                                   repo_root)
    derived["val_dataset"] = _datasets(custom.get("val_jsonl"), custom.get("val_sample_limit"),
                                       data.get("val_dataset"), repo_root)
    return derived


def _accumulation(training: Mapping, world_size: int) -> Optional[int]:
    """``effective_batch_size`` as ms-swift's ``gradient_accumulation_steps``."""
    effective, explicit = training.get("effective_batch_size"), training.get("gradient_accumulation_steps")
    if effective is None:
        return explicit
    per_step = (training.get("per_device_train_batch_size") or 1) * world_size
    if effective % per_step:
        raise TranslationError(f"training.effective_batch_size {effective} is not a multiple of "
                               f"per_device_train_batch_size x world size = {per_step}")
    steps = effective // per_step
    if explicit is not None and explicit != steps:
        raise TranslationError(f"training.gradient_accumulation_steps {explicit} contradicts "
                               f"training.effective_batch_size {effective} (which gives {steps}); set one")
    return steps


def _datasets(jsonl: Optional[str], limit: Optional[int], listed, repo_root: str) -> Tuple[str, ...]:
    """The project's JSONL path (relative to the repository, sampled with ms-swift's
    ``path#N``), else the data section's own list."""
    if jsonl:
        path = jsonl if os.path.isabs(jsonl) else os.path.join(repo_root, jsonl)
        return (f"{path}#{limit}" if limit else path,)
    return tuple(listed or ())


def _local_or_hub(model, repo_root: str):
    """A model path relative to the repository when one exists there; a hub id otherwise."""
    if isinstance(model, str) and not os.path.isabs(model) and os.path.exists(os.path.join(repo_root, model)):
        return os.path.join(repo_root, model)
    return model


def _argv(arguments: Mapping[str, object]) -> List[str]:
    """``--name value`` as ``swift sft`` parses them: booleans true/false, lists as several
    values (an empty list is left to ms-swift's default), mappings as JSON, None omitted."""
    argv: List[str] = []
    for name, value in arguments.items():
        if value is None or (isinstance(value, (list, tuple)) and not value):
            continue
        argv.append(f"--{name}")
        if isinstance(value, bool):
            argv.append("true" if value else "false")
        elif isinstance(value, (list, tuple)):
            argv.extend(str(item) for item in value)
        elif isinstance(value, Mapping):
            argv.append(json.dumps(value, sort_keys=True))
        else:
            argv.append(str(value))
    return argv
