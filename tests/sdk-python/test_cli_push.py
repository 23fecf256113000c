"""The real Appwrite CLI (npm `appwrite-cli` 12.0.1, installed in tests/cli by scripts/setup.sh)
deploys a function to the emulator with `appwrite push functions --all --force`, and it runs."""

import json
import os
import subprocess

from appwrite.services.functions import Functions

from conftest import ROOT, start_emulator
from fnkit import python_runtime, val

CLI = ROOT / "tests" / "cli" / "node_modules" / ".bin" / "appwrite"


def run_cli(args, cwd, home):
    env = {**os.environ, "HOME": str(home), "NO_COLOR": "1", "CI": "true"}
    return subprocess.run([str(CLI), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_cli_push_deploys_a_function_that_runs(tmp_path):
    assert CLI.exists(), "appwrite-cli is missing: scripts/setup.sh installs it in tests/cli"
    emu = start_emulator()
    try:
        runtime = python_runtime(Functions(emu.client(key=False)))
        home = tmp_path / "home"
        home.mkdir()
        project = tmp_path / "project"
        (project / "functions" / "hello" / "src").mkdir(parents=True)
        (project / "functions" / "hello" / "src" / "main.py").write_text(
            "def main(context):\n"
            "    context.log('pushed by the cli')\n"
            "    return context.res.json({'greeting': 'hello from the cli', 'path': context.req.path})\n"
        )
        (project / "functions" / "hello" / "requirements.txt").write_text("")
        config = {
            "projectId": emu.project,
            "projectName": "CLI test",
            "functions": [{
                "$id": "hello", "name": "Hello", "runtime": runtime, "specification": "s-1vcpu-512mb",
                "execute": ["any"], "events": [], "scopes": ["users.read"], "schedule": "", "timeout": 15,
                "enabled": True, "logging": True, "entrypoint": "src/main.py",
                "commands": "pip install -r requirements.txt", "path": "functions/hello",
            }],
        }
        (project / "appwrite.config.json").write_text(json.dumps(config, indent=2))

        r = run_cli(["client", "--endpoint", emu.endpoint, "--project-id", emu.project, "--key", emu.api_key], project, home)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Success" in r.stdout

        # With key-only auth the CLI creates the function, then needs a console session for
        # `GET /console/variables` and stops, exactly as against a real server.
        first = run_cli(["push", "functions", "--all", "--force"], project, home)
        functions = Functions(emu.client())
        assert functions.get(function_id="hello").runtime == runtime
        assert "Session not found" in first.stdout + first.stderr
        # The next push takes the update path: upload (activate "true"), build, poll until ready.
        second = run_cli(["push", "functions", "--all", "--force"], project, home)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "Successfully pushed 1 functions" in second.stdout + second.stderr
        f = functions.get(function_id="hello")
        assert f.deploymentid and f.live is True
        d = functions.get_deployment(function_id="hello", deployment_id=f.deploymentid)
        assert val(d.status) == "ready" and val(d.type) == "cli"

        e = functions.create_execution(function_id="hello", path="/from-test")
        assert val(e.status) == "completed", e.errors
        assert json.loads(e.responsebody) == {"greeting": "hello from the cli", "path": "/from-test"}
        assert "pushed by the cli" in e.logs
    finally:
        emu.stop()
