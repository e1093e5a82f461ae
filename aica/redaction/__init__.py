"""PII redaction: find personal data in a transcript and replace it, keeping the timings.

An engine like ``speech`` and ``analysis``: plain data in, plain data out, no database.
``redact`` returns the transcript with each word of a found span replaced by its placeholder
(``[CARD]``) and the spans themselves (kind, start, end, channel: never the content), which
the service stores so that the audio can be silenced and the UI can mark them.
"""

from aica.redaction.apply import Redacted, Span, redact, silence

__all__ = ["Redacted", "Span", "redact", "silence"]
