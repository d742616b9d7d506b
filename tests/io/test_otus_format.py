import awkward as ak
import h5py
import numpy as np
import pytest

from tests.conftest import toy_features
from turbosim_hep.cli import main
from turbosim_hep.io.otus import read_otus, read_otus_features, write_otus
from turbosim_hep.io.root import read_events


def _otus_file(path, n=300, seed=3, grouped=False):
    rng = np.random.default_rng(seed)
    z = toy_features(n, rng).astype(np.float64)
    x = toy_features(n, rng, massless=True).astype(np.float64)
    with h5py.File(path, "w") as f:
        if grouped:
            f.create_group("FDL").create_dataset("zData", data=z)
            f.create_group("ROL").create_dataset("xData", data=x)
        else:
            f.create_dataset("FDL", data=z)
            f.create_dataset("ROL", data=x)
    return z, x


@pytest.mark.parametrize("grouped", [False, True])
def test_import_export_round_trip_is_exact_to_float32(tmp_path, grouped):
    z, x = _otus_file(tmp_path / "in.hdf5", grouped=grouped)
    events = read_otus(tmp_path / "in.hdf5")
    np.testing.assert_array_equal(ak.to_numpy(events["event"]), np.arange(len(z)))
    write_otus(tmp_path / "out.hdf5", events)
    z2, x2 = read_otus_features(tmp_path / "out.hdf5")
    assert z2.dtype == np.float32
    np.testing.assert_array_max_ulp(z2, z.astype(np.float32), maxulp=1)
    # MET's E is implied by (px, py, pz): it may differ from the stored value by the last bit.
    np.testing.assert_array_max_ulp(x2, x.astype(np.float32), maxulp=1)
    exact = np.delete(np.arange(24), 7)
    np.testing.assert_array_equal(x2[:, exact], x.astype(np.float32)[:, exact])


def test_cli_import_writes_the_layout_and_records_the_source(tmp_path):
    z, _ = _otus_file(tmp_path / "in.hdf5", n=50)
    assert main(["import-otus", str(tmp_path / "in.hdf5"), str(tmp_path / "out.root")]) == 0
    events = read_events(tmp_path / "out.root")
    assert len(events) == 50
    assert "in.hdf5" in (tmp_path / "out.root.json").read_text()
    np.testing.assert_allclose(ak.to_numpy(events["Parton"][:, 0].px), z[:, 0], rtol=1e-6)


def test_cli_refuses_to_overwrite_and_reports_one_line(tmp_path, capsys):
    _otus_file(tmp_path / "in.hdf5", n=10)
    (tmp_path / "out.root").write_bytes(b"keep me")
    assert main(["import-otus", str(tmp_path / "in.hdf5"), str(tmp_path / "out.root")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "out.root" in err and "exists" in err
    assert (tmp_path / "out.root").read_bytes() == b"keep me"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"FDL": np.zeros((5, 23)), "ROL": np.zeros((5, 24))}, r"bad.hdf5.*'FDL' has shape \(5, 23\)"),
        ({"FDL": np.zeros((5, 24))}, r"bad.hdf5.*no dataset 'ROL' or 'ROL/xData'"),
        ({"FDL": np.zeros((5, 24)), "ROL": np.zeros((4, 24))}, r"bad.hdf5.*FDL has 5 rows but ROL has 4"),
        ({"FDL": np.full((5, 24), np.nan), "ROL": np.zeros((5, 24))}, r"bad.hdf5.*'FDL' row 0 column 0"),
    ],
)
def test_bad_hdf5_is_named(tmp_path, content, message):
    with h5py.File(tmp_path / "bad.hdf5", "w") as f:
        for k, v in content.items():
            f.create_dataset(k, data=v)
    with pytest.raises(ValueError, match=message):
        read_otus(tmp_path / "bad.hdf5")


def test_not_an_hdf5_file_is_named(tmp_path):
    (tmp_path / "junk.hdf5").write_text("not hdf5")
    with pytest.raises(ValueError, match="junk.hdf5.*not a readable HDF5"):
        read_otus(tmp_path / "junk.hdf5")
