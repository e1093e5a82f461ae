"""The speech engine: probe and decode audio, log-Mel features, Whisper models, transcription.

Pure and CPU-bound: no database, HTTP or GraphQL (an import contract holds it), so it runs
the same in a worker, a benchmark or a notebook. Modules import their heavy dependencies
(PyAV, faster-whisper) themselves, so importing the package stays cheap for the API process.
"""
