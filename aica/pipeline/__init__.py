"""The record pipeline: job queue and worker, audio probe/decode, transcription, analysis.

Modules import their heavy dependencies (PyAV, faster-whisper) themselves, so importing the
package stays cheap for the API process.
"""
