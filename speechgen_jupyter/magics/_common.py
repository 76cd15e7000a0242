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


def tell_extras(ctx: Context) -> None:
    """Say once, quietly, what this server lacks and what is shown instead (not an error: the page has no listing)."""
    extras = ctx.client.extras
    lacking = extras.lacking()
    if not lacking or set(lacking) <= set(ctx.session.extras_told):
        return
    ctx.session.extras_told = lacking
    tip = " %speechgen track MODEL_ID adds one made elsewhere." if "model_listing" in lacking else ""
    ctx.say(f"({extras.note()}{tip})")


def wait_ready(ctx: Context, model_id: str, timeout: float | None) -> VoiceModel:
    """Wait for a model with a progress bar; failure and timeout become short messages."""
    limit = ctx.settings.wait_timeout if timeout is None else timeout
    with WaitBar(model_id, enabled=ctx.settings.progress) as bar:
        return ctx.client.wait_for_model(model_id, limit, on_progress=bar)
