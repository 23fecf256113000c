"""transcribe: Runs when a transcription job is created: sends the audio to Whisper, stores the text and charges the credits once, with a usage log entry.

Placeholder entry point so the project's structure checks and deploy order have a real function to
look at; the backend implementation replaces it.
"""


def main(context):
    context.log("transcribe is not implemented yet")
    return context.res.json({"function": "transcribe", "error": "not implemented yet"}, 501)
