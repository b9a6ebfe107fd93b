"""The boundary to the training framework (ms-swift with torch), an optional extra."""


class FrameworkMissing(RuntimeError):
    pass


def run_training(trainer, framework_step=None):  # pragma: no cover - needs ms-swift and a GPU
    try:
        import swift  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        raise FrameworkMissing(f"training needs ms-swift and torch ({error.name} is missing): "
                               f"pip install -e '.[train]'") from error
    raise FrameworkMissing("the ms-swift training loop is not wired in this repository yet")
