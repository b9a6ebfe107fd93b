def rollout_settings(cfg, extra, custom, args, client, prompts):
    a = cfg["custom"]["extra"]["rollout_matching"]
    b = extra.get("rollout_matching")
    c = getattr(getattr(custom, "extra"), "rollout_matching")
    d = select(cfg, "custom.extra.rollout_matching.decode_batch_size")
    e = cfg["custom"]["extra"]["rollout_matching"]  # noqa: S2P001
    decode_batch_size = args.per_device_eval_batch_size
    client.generate(prompts, decode_batch=args.per_device_eval_batch_size)
    decode_batch_size = args.per_device_eval_batch_size  # noqa: S2P002
    eval_batch = args.per_device_eval_batch_size
    return a, b, c, d, e, decode_batch_size, eval_batch


def select(cfg, path):
    return cfg, path
