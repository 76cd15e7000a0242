"""Signal code shared by the client (the sample report and preparation) and the local server.

`codec` (resample, encode), `vad` (Silero speech detection), `levels` (noise
floor and SNR), `speakers` (the pitch split). The client never imports
`local/`; what both sides need lives here and the server imports it. Each
module imports NumPy only; PyAV, Silero and friends load on first use.
"""
