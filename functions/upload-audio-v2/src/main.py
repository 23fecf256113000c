"""upload-audio-v2: Version 2 upload: takes the ID of a file already uploaded to Storage plus options (language, prompt) and creates the transcription job with its estimate.

Placeholder entry point so the project's structure checks and deploy order have a real function to
look at; the backend implementation replaces it.
"""


def main(context):
    context.log("upload-audio-v2 is not implemented yet")
    return context.res.json({"function": "upload-audio-v2", "error": "not implemented yet"}, 501)
