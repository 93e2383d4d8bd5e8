"""ProbeOptions, hand-written so a probe does not import dataclasses (and with
it inspect and ast): it must behave as the frozen dataclass it replaced. The
reference here is that dataclass, made from the same fields and defaults."""
import copy
import dataclasses
import inspect
import pickle

import pytest

from ibmi_trust.errors import ConfigError
from ibmi_trust.probe import ProbeOptions
from ibmi_trust.probe.options import FIELDS


def reference_class():
    """The frozen dataclass ProbeOptions used to be (fields, order, defaults; no validation)."""
    parameters = inspect.signature(ProbeOptions).parameters
    assert tuple(parameters) == FIELDS
    return dataclasses.make_dataclass(
        "ProbeOptions", [(name, object, dataclasses.field(default=parameters[name].default)) for name in FIELDS],
        frozen=True)


VARIANTS = [
    {},
    {"timeout": 2.5, "ehlo": "client.example.test", "rounds": 3, "seed": 7, "deadline": 30.0},
    {"sni": ("off",), "key_types": ("rsa",), "tls_version": "1.2", "rate": 500.0, "concurrency": 1},
    {"resolve": {"mx.example.test:25": ["127.0.0.2", "127.0.0.3"]}, "like_system": True, "min_share": 0.01,
     "confidence": 0.99},
    {"tls_version": "1.3", "key_types": ("ecdsa", "rsa")},
]


def as_reference(options, reference):
    return reference(**{name: getattr(options, name) for name in FIELDS})


@pytest.mark.parametrize("kwargs", VARIANTS)
def test_repr_equality_and_hash_are_the_dataclass_s(kwargs):
    reference = reference_class()
    options = ProbeOptions(**kwargs)
    old = as_reference(options, reference)
    assert repr(options) == repr(old)
    assert options == ProbeOptions(**kwargs) and not (options != ProbeOptions(**kwargs))
    if kwargs.get("resolve") is None:
        assert hash(options) == hash(old) == hash(ProbeOptions(**kwargs))
    else:                                         # a dict field: unhashable, as it was
        with pytest.raises(TypeError):
            hash(options)
    assert options != old and options != dict(kwargs)      # another class is never equal
    for name in FIELDS:
        assert getattr(options, name) == getattr(old, name)


def test_defaults_and_normalised_tuples():
    options = ProbeOptions(sni=["on", "off", "on"], key_types=("rsa", "rsa"))
    assert options.sni == ("on", "off") and options.key_types == ("rsa",)
    default = ProbeOptions()
    assert (default.timeout, default.min_share, default.confidence, default.rate, default.concurrency) == (
        10.0, 0.05, 0.95, 10.0, 4)
    assert default.sni == ("on", "off") and default.key_types == ("ecdsa", "rsa") and default.resolve is None
    assert ProbeOptions(2.0, "helo.test").ehlo == "helo.test"          # positional, in field order, as before


@pytest.mark.parametrize("kwargs", VARIANTS)
def test_replace_is_dataclasses_replace(kwargs):
    reference = reference_class()
    options = ProbeOptions(**kwargs)
    changes = {"seed": 11, "key_types": ("ecdsa",), "rounds": 2}
    new = options.replace(**changes)
    assert repr(new) == repr(dataclasses.replace(as_reference(options, reference), **changes))
    assert options == ProbeOptions(**kwargs)                          # the original is unchanged
    assert options.replace() == options and options.replace() is not options


def test_replace_validates_and_refuses_unknown_fields():
    with pytest.raises(ConfigError, match="--rounds must be >= 1"):
        ProbeOptions().replace(rounds=0)
    with pytest.raises(ConfigError, match="needs the ecdsa offer"):
        ProbeOptions(tls_version="1.3").replace(key_types=("rsa",))
    with pytest.raises(TypeError, match="no field 'colour'"):
        ProbeOptions().replace(colour="red")


def test_frozen():
    options = ProbeOptions()
    with pytest.raises(AttributeError):
        options.timeout = 1.0
    with pytest.raises(AttributeError):
        options.new_attribute = 1
    with pytest.raises(AttributeError):
        del options.seed
    assert options.timeout == 10.0


@pytest.mark.parametrize("kwargs", VARIANTS)
def test_to_json_copies_and_pickles(kwargs):
    options = ProbeOptions(**kwargs)
    assert options.to_json() == {name: list(value) if isinstance(value, tuple) else value
                                 for name, value in ((n, getattr(options, n)) for n in FIELDS)}
    assert list(options.to_json()) == list(FIELDS)
    assert pickle.loads(pickle.dumps(options)) == options
    assert copy.copy(options) == options and copy.deepcopy(options) == options


def test_time_limit_and_effective_key_types():
    assert ProbeOptions().time_limit(60) == 156.0
    assert ProbeOptions(timeout=1.0).time_limit(60) == 21.0
    assert ProbeOptions(deadline=7).time_limit(60) == 7.0
    assert ProbeOptions(timeout=5.0).time_limit(1) == 20.0                 # one whole conversation at least
    assert ProbeOptions(tls_version="1.3").effective_key_types() == ("ecdsa",)
    assert ProbeOptions(tls_version="1.2").effective_key_types() == ("ecdsa", "rsa")
