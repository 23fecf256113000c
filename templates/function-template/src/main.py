"""{{FUNCTION_ID}}: {{DESCRIPTION}}"""


def main(context):
    context.log("{{FUNCTION_ID}} called with " + context.req.method + " " + context.req.path)
    return context.res.json({"function": "{{FUNCTION_ID}}", "ok": True})
