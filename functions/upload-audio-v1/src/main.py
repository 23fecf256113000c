"""upload-audio-v1: Version 1 upload: takes the audio file in the request, checks its size, duration and the user's credits, stores it and creates the transcription job.

Placeholder entry point so the project's structure checks and deploy order have a real function to
look at; the backend implementation replaces it.
"""


def main(context):
    context.log("upload-audio-v1 is not implemented yet")
    return context.res.json({"function": "upload-audio-v1", "error": "not implemented yet"}, 501)
