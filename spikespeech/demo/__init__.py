"""The gradio web demo (``spikespeech demo``): transcribe, synthesize, round trip, model cards.

One job per module: ``limits`` (request limits), ``models`` (the two models, loaded once,
switchable), ``workspace`` (the private directory the demo writes its audio into),
``plots`` (matplotlib figures), ``memory`` (resident memory bounded under load),
``callbacks`` (what the UI calls: plain functions that return values and one-line messages,
never raise), ``app`` (the gradio page and its launch).
Only ``app`` imports gradio.
"""
