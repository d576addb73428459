"""Speaking: espeak-ng through pyttsx3, a cache of rendered lines, an interruptible player."""
