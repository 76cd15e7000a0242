"""Small helpers several subcommands share."""

from __future__ import annotations

from typing import Any

from ..types import VoiceModel
from ._context import Context
from ._progress import WaitBar


def model_frame(ctx: Context, model: VoiceModel) -> Any:
    """One model as a one-row models table (so it shows with its sample player)."""
    from ..tables import models_table

    return models_table(ctx.client, models=[model])


def wait_ready(ctx: Context, model_id: str, timeout: float | None) -> VoiceModel:
    """Wait for a model with a progress bar; failure and timeout become short messages."""
    limit = ctx.settings.wait_timeout if timeout is None else timeout
    with WaitBar(model_id, enabled=ctx.settings.progress) as bar:
        return ctx.client.wait_for_model(model_id, limit, on_progress=bar)
