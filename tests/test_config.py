"""YAML / dict configuration: strict keys, typed values, readable errors."""

from __future__ import annotations

import re

import pytest
import yaml

from spikespeech.attention import AttentionConfig, DecayConfig
from spikespeech.config import ConfigError, from_dict, load_yaml, to_dict
from spikespeech.encoder import EncoderConfig, NeuronConfig, load_encoder_config

NESTED = {
    "layers": 3,
    "d_model": 48,
    "ffn_dim": 96,
    "ffn_kernels": [9, 1],
    "dropout": 0.2,
    "causal": True,
    "time_steps": 4,
    "output": "membrane",
    "neuron": {"type": "lif", "tau": 3, "surrogate": "sigmoid", "alpha": 2, "reset": "soft"},
    "attention": {
        "type": "ssa",
        "heads": 6,
        "scale": 0.25,
        "decay": {"schedule": "uniform", "exponent_range": [1, 6], "normalize": "rowsum"},
    },
}


def test_from_dict_builds_nested_config():
    cfg = from_dict(EncoderConfig, NESTED)
    assert isinstance(cfg, EncoderConfig)
    assert (cfg.layers, cfg.d_model, cfg.ffn_dim, cfg.dropout) == (3, 48, 96, 0.2)
    assert cfg.ffn_kernels == (9, 1) and isinstance(cfg.ffn_kernels, tuple)
    assert cfg.causal is True and cfg.time_steps == 4 and cfg.output == "membrane"
    assert isinstance(cfg.neuron, NeuronConfig)
    assert cfg.neuron.type == "lif" and cfg.neuron.reset == "soft"
    # ints are accepted for float fields and become floats
    assert cfg.neuron.tau == 3.0 and isinstance(cfg.neuron.tau, float)
    assert cfg.neuron.alpha == 2.0 and isinstance(cfg.neuron.alpha, float)
    assert isinstance(cfg.attention, AttentionConfig) and isinstance(cfg.attention.decay,
                                                                     DecayConfig)
    assert cfg.attention.heads == 6 and cfg.attention.scale == 0.25
    assert cfg.attention.decay.exponent_range == (1.0, 6.0)
    assert cfg.attention.decay.normalize == "rowsum"
    # untouched fields keep their defaults
    assert cfg.neuron.levels == NeuronConfig().levels
    assert cfg.attention.rep_kernel == AttentionConfig().rep_kernel
    assert cfg.d_head == 8


def test_from_dict_empty_and_none_give_defaults():
    assert from_dict(EncoderConfig, {}) == EncoderConfig()
    assert from_dict(EncoderConfig, None) == EncoderConfig()
    assert from_dict(EncoderConfig, {"neuron": None}).neuron == NeuronConfig()
    assert from_dict(EncoderConfig, {"neuron": {"alpha": None}}).neuron.alpha is None


def test_from_dict_accepts_dataclass_instances():
    neuron = NeuronConfig(type="lif")
    assert from_dict(EncoderConfig, {"neuron": neuron}).neuron is neuron


@pytest.mark.parametrize("data,where,key", [
    ({"layerz": 2}, "EncoderConfig", "layerz"),
    ({"attention": {"head": 4}}, "EncoderConfig.attention", "head"),
    ({"attention": {"decay": {"gamma": 0.9}}}, "EncoderConfig.attention.decay", "gamma"),
])
def test_unknown_keys_are_named_with_valid_keys(data, where, key):
    with pytest.raises(ConfigError) as info:
        from_dict(EncoderConfig, data)
    msg = str(info.value)
    assert msg.startswith(where + ":")
    assert key in msg
    assert "valid keys" in msg
    # the message lists the valid keys of the offending section
    cls = {"EncoderConfig": EncoderConfig, "EncoderConfig.attention": AttentionConfig,
           "EncoderConfig.attention.decay": DecayConfig}[where]
    for field in cls.__dataclass_fields__:
        assert field in msg


@pytest.mark.parametrize("data,path", [
    ({"attention": {"heads": "4"}}, "EncoderConfig.attention.heads"),  # string for int
    ({"layers": 2.5}, "EncoderConfig.layers"),  # non-integral float for int
    ({"layers": True}, "EncoderConfig.layers"),  # bool is not a number
    ({"causal": 1}, "EncoderConfig.causal"),  # int for bool
    ({"neuron": {"detach_reset": "yes"}}, "EncoderConfig.neuron.detach_reset"),
    ({"neuron": {"type": "izhikevich"}}, "EncoderConfig.neuron.type"),  # bad Literal
    ({"attention": {"decay": {"schedule": "cosine"}}}, "EncoderConfig.attention.decay.schedule"),
    ({"dropout": "0.1"}, "EncoderConfig.dropout"),
    ({"ffn_kernels": 3}, "EncoderConfig.ffn_kernels"),  # scalar for a tuple
    ({"ffn_kernels": [3, "x"]}, "EncoderConfig.ffn_kernels[1]"),
    ({"neuron": {"alpha": "big"}}, "EncoderConfig.neuron.alpha"),  # Optional[float]
    ({"neuron": 4}, "EncoderConfig.neuron"),  # scalar for a section
])
def test_wrong_types_name_the_dotted_path(data, path):
    with pytest.raises(ConfigError) as info:
        from_dict(EncoderConfig, data)
    assert str(info.value).startswith(path + ":"), str(info.value)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_number_for_int_field_is_a_config_error(value):
    """YAML ``.inf`` / ``.nan`` for an int field must give a ConfigError, not a crash."""
    with pytest.raises(ConfigError, match=re.escape("EncoderConfig.layers")):
        from_dict(EncoderConfig, {"layers": value})


def test_integral_float_is_accepted_for_int():
    cfg = from_dict(EncoderConfig, {"layers": 4.0})
    assert cfg.layers == 4 and isinstance(cfg.layers, int)


@pytest.mark.parametrize("data,fragment", [
    ({"d_model": 30, "attention": {"heads": 4}}, "not divisible"),
    ({"layers": 0}, "layers"),
    ({"dropout": 1.0}, "dropout"),
    ({"ffn_kernels": [1, 1, 1]}, "ffn_kernels"),
    ({"time_steps": 0}, "time_steps"),
    ({"attention": {"rep_kernel": -1}}, "rep_kernel"),
    ({"neuron": {"levels": 0}}, "levels"),
    ({"attention": {"decay": {"exponent_range": [5, 2]}}}, "exponent_range"),
    ({"attention": {"decay": {"exponent_range": [0, 2]}}}, "exponent_range"),
])
def test_invalid_values_raise_config_error(data, fragment):
    with pytest.raises(ConfigError, match=fragment) as info:
        from_dict(EncoderConfig, data)
    assert str(info.value).startswith("EncoderConfig")


def test_d_model_not_divisible_by_heads_direct_construction():
    with pytest.raises(ConfigError, match="divisible"):
        EncoderConfig(d_model=10, attention=AttentionConfig(heads=3))


def test_to_dict_round_trip():
    cfg = from_dict(EncoderConfig, NESTED)
    d = to_dict(cfg)
    assert d["ffn_kernels"] == [9, 1] and d["attention"]["decay"]["exponent_range"] == [1.0, 6.0]
    assert isinstance(d["neuron"], dict)
    assert from_dict(EncoderConfig, d) == cfg
    # through YAML text as well
    assert from_dict(EncoderConfig, yaml.safe_load(yaml.safe_dump(d))) == cfg
    # and for the defaults
    assert from_dict(EncoderConfig, to_dict(EncoderConfig())) == EncoderConfig()


# ----------------------------------------------------------------------------------------
# YAML files
# ----------------------------------------------------------------------------------------
def test_load_yaml_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=re.escape(str(path))) as info:
        load_yaml(path)
    assert "not found" in str(info.value)


def test_load_yaml_invalid_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("layers: 2\nattention: {heads: 4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(path))) as info:
        load_yaml(path)
    assert "invalid YAML" in str(info.value)


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "just a string\n", "42\n"])
def test_load_yaml_non_mapping(tmp_path, text):
    path = tmp_path / "list.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(path))) as info:
        load_yaml(path)
    assert "mapping" in str(info.value)


def test_load_yaml_directory_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path))):
        load_yaml(tmp_path)


def test_load_yaml_empty_file_is_empty_mapping(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    assert load_yaml(path) == {}


@pytest.mark.parametrize("wrapped", [False, True])
def test_load_encoder_config_bare_and_wrapped(tmp_path, wrapped):
    data = {"encoder": NESTED} if wrapped else NESTED
    path = tmp_path / "enc.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_encoder_config(path) == from_dict(EncoderConfig, NESTED)
    assert load_encoder_config(str(path)) == from_dict(EncoderConfig, NESTED)


def test_load_encoder_config_errors_name_the_file(tmp_path):
    path = tmp_path / "enc.yaml"
    path.write_text("encoder:\n  attention:\n    heads: four\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_encoder_config(path)
    assert str(info.value).startswith(f"{path}.attention.heads:")
    path.write_text("d_model: 64\nlayerz: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="layerz") as info:
        load_encoder_config(path)
    assert str(path) in str(info.value)


def test_load_encoder_config_empty_wrapper_gives_defaults(tmp_path):
    path = tmp_path / "enc.yaml"
    path.write_text("encoder:\n", encoding="utf-8")
    assert load_encoder_config(path) == EncoderConfig()
