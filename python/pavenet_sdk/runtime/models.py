"""Where model packages come from: a path, or a model bundled with the SDK."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL = "pavenet-small"


def bundled_models_dir() -> Path:
    """The folder of bundled packages: inside the installed package, else the source tree."""
    installed = Path(__file__).resolve().parents[1] / "models"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[3] / "models"  # running from a source checkout


def bundled_models() -> list[str]:
    root = bundled_models_dir()
    return (
        sorted(p.name for p in root.iterdir() if (p / "manifest.json").is_file())
        if root.is_dir()
        else []
    )


def resolve_model(model: str | Path | None) -> Path:
    """Path of a package given a path, a bundled model's name, or None (the default model)."""
    if model is None:
        model = DEFAULT_MODEL
    path = Path(model)
    if path.exists():
        return path
    bundled = bundled_models_dir() / str(model)
    if bundled.exists():
        return bundled
    raise FileNotFoundError(
        f"model {str(model)!r} is neither a path nor a bundled model "
        f"(bundled: {', '.join(bundled_models()) or 'none'})"
    )
