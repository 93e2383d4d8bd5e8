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
