"""What `pip install .` ships: scripts/test installs the package (not
editable) and runs these tests against the installed copy."""
import os

import ibmi_trust
from ibmi_trust import resources

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _checkout_names(kind):
    return sorted(n for n in os.listdir(os.path.join(REPO, kind)) if not n.startswith("__"))


def test_sql_and_cl_sources_ship_with_the_package():
    for kind in ("sql", "cl"):
        assert resources.list_names(kind) == _checkout_names(kind), kind
        for name in resources.list_names(kind):
            with open(os.path.join(REPO, kind, name), encoding="utf-8") as handle:
                assert resources.read_text(kind, name) == handle.read(), name


def test_return_code_table_ships_with_the_package():
    path = os.path.join(os.path.dirname(ibmi_trust.__file__), "explain", "ssl-return-codes.csv")
    with open(path, encoding="utf-8") as handle:
        assert handle.readline().startswith("api,code,constant,message_id")


def _pyproject():
    try:
        import tomllib                            # 3.11+
    except ImportError:
        return None
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as handle:
        return tomllib.load(handle)


def test_every_subpackage_ships():
    """A package directory missing from pyproject's list is left out of the wheel
    (as ibmi_trust.analyse.validators once was: `pip install .` then fails at run time)."""
    import pytest

    data = _pyproject()
    if data is None:
        pytest.skip("tomllib needs Python 3.11")
    listed = set(data["tool"]["setuptools"]["packages"])
    found = {os.path.relpath(root, REPO).replace(os.sep, ".") for root, _dirs, files in
             os.walk(os.path.join(REPO, "ibmi_trust")) if "__init__.py" in files}
    assert found <= listed, sorted(found - listed)


def test_ibm_i_only_dependencies_are_marked_and_certifi_is_declared():
    import pytest

    data = _pyproject()
    if data is None:
        pytest.skip("tomllib needs Python 3.11")
    deps = data["project"]["dependencies"]
    assert "pyodbc>=4.0; platform_system == 'OS400'" in deps and "itoolkit>=1.7; platform_system == 'OS400'" in deps
    assert "certifi" in deps
    assert data["project"]["optional-dependencies"]["ibmi"] == ["pyodbc>=4.0", "itoolkit>=1.7"]
    for tool in ("jsonschema", "prometheus-client", "ansible-core", "itoolkit"):   # itoolkit: the simulator drives it
        assert any(d.startswith(tool) for d in data["project"]["optional-dependencies"]["test"]), tool


def test_no_document_names_a_development_machine_path():
    """docs name the x509-limbo corpus relative to the repository (../shared/corpora/...)."""
    for folder, _dirs, files in os.walk(os.path.join(REPO, "docs")):
        for name in files:
            if name.endswith(".md"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    text = handle.read()
                assert "/work/" not in text and "/shared/corpora" not in text.replace("../shared/corpora", ""), name
    with open(os.path.join(REPO, "docs", "limbo.md"), encoding="utf-8") as handle:
        assert "`../shared/corpora/x509-limbo/" in handle.read()
