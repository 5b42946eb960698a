"""torch.save(model) and torch.load of a whole model are refused, with the lines to write instead."""
import io
import pickle
import zipfile

import numpy as np
import pytest

import tinygan as torch
import tinygan.nn as nn
import tinygan.optim as optim

INSTEAD = "torch.save(model.state_dict(), path)"
LOAD_INSTEAD = "model.load_state_dict(torch.load(path))"


def test_saving_a_whole_model_names_the_state_dict_lines(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    with pytest.raises(torch.SerializationError) as caught:
        torch.save(model, tmp_path / "model.pt")
    message = str(caught.value)
    assert "Sequential" in message and "never pickles" in message
    assert INSTEAD in message and LOAD_INSTEAD in message


def test_saving_an_optimizer_or_a_model_inside_a_dict_is_refused_the_same_way(tmp_path):
    model = nn.Linear(3, 2)
    with pytest.raises(torch.SerializationError, match=r"Adam.*never pickles"):
        torch.save(optim.Adam(model.parameters()), tmp_path / "opt.pt")
    with pytest.raises(torch.SerializationError, match=r"\['G'\] is a Linear.*model\.state_dict\(\)"):
        torch.save({"G": model}, tmp_path / "both.pt")


def test_the_state_dict_lines_the_message_names_work(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "model.pt"
    torch.save(model.state_dict(), path)
    copy = nn.Linear(3, 2)
    copy.load_state_dict(torch.load(path))
    assert (copy.weight.numpy() == model.weight.numpy()).all()


def test_loading_a_pickled_whole_model_names_the_state_dict_lines(tmp_path):
    # torch.save writes a zip whose entry data.pkl is a pickle; the bytes here are a harmless stand-in.
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model/data.pkl", pickle.dumps({"weight": [1.0]}))
    with pytest.raises(torch.LoadError) as caught:
        torch.load(path)
    assert "torch.save(model)" in str(caught.value) and LOAD_INSTEAD in str(caught.value)
    with pytest.raises(torch.LoadError, match="never loads pickled objects.*state_dict"):
        torch.load(io.BytesIO(pickle.dumps({"weight": [1.0]})))


def test_load_takes_map_location_and_weights_only_as_pytorch_code_passes_them(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "model.pt"
    torch.save({"model": model.state_dict(), "scale": torch.ones(2)}, path)
    for kwargs in ({"map_location": "cpu"}, {"map_location": torch.device("cpu"), "weights_only": True},
                   {"weights_only": False}):
        state = torch.load(path, **kwargs)
        assert state["scale"].device == "cpu"
        assert (np.asarray(state["model"]["weight"]) == model.weight.numpy()).all()
    with pytest.raises(TypeError, match="map_location must be a device"):
        torch.load(path, map_location={"cuda:0": "cpu"})
