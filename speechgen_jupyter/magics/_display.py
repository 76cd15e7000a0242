"""An autoplaying player that plays once: when asked, in the live session only.

Why not `<audio autoplay>`: that attribute fires every time the output is
rendered, so a saved notebook would start talking when reopened, and
JupyterLab's windowed notebooks re-attach outputs while scrolling. Why not
`IPython.display.Audio(autoplay=True)` or `ipywidgets.Audio`: the latter loops
by default, and neither plays only once.

So the player is a normal `<audio controls>` (never `loop`), plus a tiny
script that starts it if (a) this clip has not been played in this page yet
and (b) the output is fresh (made less than `FRESH_SECONDS` ago). A reopened
notebook is either untrusted (scripts do not run) or stale (too old to play).
"""

from __future__ import annotations

import base64
import html
import json
import time
import uuid

from ..types import Speech

__all__ = ["AutoplayPlayer", "FRESH_SECONDS"]

FRESH_SECONDS = 120


class AutoplayPlayer:
    """Display object: the speech's player, started once; text in a terminal."""

    def __init__(self, speech: Speech) -> None:
        self.speech = speech
        self.created_ms = int(time.time() * 1000)
        self.element_id = f"speechgen-{uuid.uuid4().hex}"

    def _repr_html_(self) -> str:
        encoded = base64.b64encode(self.speech.data).decode("ascii")
        caption = html.escape(self.speech._caption())
        script = (
            "(function(){"
            f"var id={json.dumps(self.element_id)},made={self.created_ms},fresh={FRESH_SECONDS * 1000};"
            "var played=(window.__speechgenPlayed=window.__speechgenPlayed||{});"
            "if(played[id]||Math.abs(Date.now()-made)>fresh){return;}"
            "played[id]=true;var a=document.getElementById(id);"
            "if(a){a.loop=false;var p=a.play();if(p&&p.catch){p.catch(function(){});}}"
            "})();"
        )
        return (
            f'<div class="speechgen-speech"><audio id="{self.element_id}" controls preload="auto" '
            f'src="data:{self.speech.media_type};base64,{encoded}"></audio>'
            f'<div style="font-size:smaller;opacity:.75">{caption}</div>'
            f"<script>{script}</script></div>"
        )

    def __repr__(self) -> str:
        return repr(self.speech)
