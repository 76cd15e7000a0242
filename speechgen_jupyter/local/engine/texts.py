"""Fixed English texts the engine speaks to measure voices.

Why fixed: a voice's measured pitch and rate depend a little on what it
says, so every built-in voice and every fitting round reads the same
passage, and comparisons are between voices, not between texts.
The passage mixes statements, questions and lists, long and short words,
so its pitch and syllable statistics look like ordinary read speech.
"""

from __future__ import annotations

__all__ = ["FIT_TEXT", "SCORE_TEXT", "DEMO_TEXT", "READING_PASSAGES"]

#: Read by every voice when it is profiled or fitted (about 12 s at 175 wpm).
FIT_TEXT = (
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow. "
    "Did you know that the bright colors always appear in the same order? "
    "People have looked for the pot of gold at its end for many centuries, "
    "and nobody has ever found it."
)

#: What a new voice says in its demonstration sample.
DEMO_TEXT = "This is a demonstration of the voice clone. It was made offline, on this computer, from your sample."

#: Longer reading material, for making test speakers and long samples.
READING_PASSAGES = (
    "The North Wind and the Sun were disputing which was the stronger, when a traveler came along "
    "wrapped in a warm cloak. They agreed that the one who first succeeded in making the traveler "
    "take his cloak off should be considered stronger than the other.",
    "Then the North Wind blew as hard as he could, but the more he blew the more closely did the "
    "traveler fold his cloak around him; and at last the North Wind gave up the attempt. "
    "Then the Sun shone out warmly, and immediately the traveler took off his cloak.",
    "Please call Stella. Ask her to bring these things with her from the store: six spoons of fresh "
    "snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob.",
    "We also need a small plastic snake and a big toy frog for the kids. She can scoop these things "
    "into three red bags, and we will go meet her Wednesday at the train station.",
    "A library is a quiet place, but it is never really silent. Pages turn, chairs creak, and "
    "somewhere a printer hums while it works through a long queue of documents.",
    "How many miles is it from the harbor to the old lighthouse on the cliff? Nobody in the village "
    "could say for certain, although everyone had walked the path at least a hundred times.",
    "Modern weather forecasts rely on careful measurements of temperature, pressure and humidity, "
    "taken every hour at thousands of stations across the world and fed into large computer models.",
    "The recipe was simple enough: flour, water, salt and a little yeast, mixed in the evening and "
    "left to rise slowly overnight in a cool corner of the kitchen.",
)

#: What a neural clone's candidates read to be scored against the sample by the
#: speaker encoder (about 8 s): in neither FIT_TEXT nor the benchmarks' sentences,
#: so the benchmarks judge a fit on text it was not chosen on.
SCORE_TEXT = (
    "Every morning the baker opens his shop before the sun comes up. "
    "He says that fresh bread, warm coffee and a friendly word are the best way to start a day."
)
