"""voicestudio: record your voice, get an UTAU voicebank, a neural TTS voice and a singing voice."""

__version__ = "0.1.0"
