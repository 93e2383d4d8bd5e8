"""The playbooks of docs/ansible/, run by ansible-core (connection local).

The Unix playbooks run for real against localhost: install-unix.yml makes a
venv and installs this checkout with pip, writes a targets file naming a
loopback mail server and a cron.d file; verify.yml runs the installed
ibmi-trust verify and collects the report; a typo in the targets file must
fail the play at once, with the reason. The IBM i playbooks are
syntax-checked and run in --check mode against a stand-in of ibm.power_ibmi
(tests/ansible/collections: the documented options of the two modules the
playbooks use), since CI cannot reach Galaxy and no PyPI package carries
the collection.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ibmi_trust.testing.pki import CA
from ibmi_trust.testing.servers import MailServer

REPO = Path(__file__).resolve().parent.parent
PLAYBOOKS = REPO / "docs" / "ansible"
STAND_IN = Path(__file__).resolve().parent / "ansible" / "collections"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
HOST = "mx.example.test"

pytestmark = pytest.mark.skipif(not ANSIBLE_PLAYBOOK.exists(),
                                reason="ansible-core is not installed (pip install '.[test]')")


def playbook(tmp_path, name, *args, check=False):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(STAND_IN), ANSIBLE_HOME=str(tmp_path / "ansible-home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1", LC_ALL="C.UTF-8",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    command = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", str(PLAYBOOKS / name),
               "-e", "ibmi_trust_hosts=localhost"] + list(args) + (["--check"] if check else [])
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=str(tmp_path))


def extra(**variables):
    return ["-e", json.dumps(variables)]


@pytest.mark.parametrize("name", sorted(p.name for p in PLAYBOOKS.glob("*.yml") if p.name != "requirements.yml"))
def test_every_playbook_passes_the_syntax_check(tmp_path, name):
    result = playbook(tmp_path, name, "--syntax-check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_requirements_pin_the_ibm_i_collection():
    import yaml

    wanted = yaml.safe_load((PLAYBOOKS / "requirements.yml").read_text())["collections"]
    assert [(c["name"], c["version"]) for c in wanted] == [("ibm.power_ibmi", ">=2.0.1,<4.0.0")]


def test_install_ibmi_in_check_mode_passes_only_documented_module_options(tmp_path):
    result = playbook(tmp_path, "install-ibmi.yml", check=True, *extra(
        targets_file=str(tmp_path / "targets.ini"), ibmi_trust_library="MYLIB",
        targets=[{"name": "o365", "host": "smtp.office365.com", "port": 587}]))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Schedule VFYTLSTRST every day (ADDJOBSCDE)" in result.stdout
    assert not (tmp_path / "targets.ini").exists()           # check mode wrote nothing


def test_verify_cl_in_check_mode(tmp_path):
    result = playbook(tmp_path, "verify-cl.yml", check=True, *extra(report_dir=str(tmp_path / "reports")))
    # the stand-in returns no job log, so the play stops at the "could not run" guard, as it must
    # for a VFYTLSTRST that ends without ITR0201/0202/0203; a stand-in cannot report findings
    assert "VFYTLSTRST could not run" in result.stdout, result.stdout + result.stderr


@pytest.fixture(scope="module")
def server():
    root = CA.root("Ansible Test Root")
    leaf = root.intermediate("Ansible Test CA").leaf([HOST])
    srv = MailServer("smtp", chains=(leaf.chain_pem(), leaf.key_pem()), name=HOST).start()
    yield srv, root
    srv.stop()


def test_unix_install_then_verify_for_real_and_a_typo_fails_with_its_reason(tmp_path, server):
    srv, root = server
    store = tmp_path / "store.pem"
    store.write_text(root.cert.pem())
    venv = tmp_path / "venv"
    targets = tmp_path / "etc" / "targets.ini"
    targets.parent.mkdir()
    cron = tmp_path / "cron.d-ibmi-trust"
    installed = playbook(tmp_path, "install-unix.yml", *extra(
        ibmi_trust_python=sys.executable, ibmi_trust_venv=str(venv), ibmi_trust_package=str(REPO),
        targets_file=str(targets), targets_store="bundle:%s" % store, cron_file=str(cron),
        prometheus_file=str(tmp_path / "ibmi_trust.prom"),
        targets=[{"name": "relay", "host": HOST, "port": srv.port, "protocol": "smtp",
                  "resolve": "%s:%d:127.0.0.1" % (HOST, srv.port)}]))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (venv / "bin" / "ibmi-trust").exists()
    assert "[relay]" in targets.read_text() and "resolve = %s:%d:127.0.0.1" % (HOST, srv.port) in targets.read_text()
    line = cron.read_text().splitlines()[-1]
    assert line.startswith("30 2 * * * root %s verify --config %s" % (venv / "bin" / "ibmi-trust", targets))
    assert "--prometheus %s" % (tmp_path / "ibmi_trust.prom") in line

    reports = tmp_path / "reports"
    verify_vars = extra(ibmi_trust=str(venv / "bin" / "ibmi-trust"), targets_file=str(targets), notify_msgq="",
                        remote_report=str(tmp_path / "remote-report.json"), report_dir=str(reports))
    verified = playbook(tmp_path, "verify.yml", *verify_vars)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads((reports / "localhost.json").read_text())
    assert report["status"] == "OK" and report["counts"]["OK"] == 1

    targets.write_text(targets.read_text() + "colour = blue\n")          # a typo
    broken = playbook(tmp_path, "verify.yml", *verify_vars)
    assert broken.returncode != 0
    assert "ibmi-trust verify could not run (exit 3)" in broken.stdout, broken.stdout
    assert "unknown key(s) colour" in broken.stdout
    assert "Collect the report" not in broken.stdout.split("could not run")[1]      # it stopped there
